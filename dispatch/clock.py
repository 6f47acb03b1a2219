"""Time for dispatches: instants are stored in UTC, days are counted in Paraguay.

Every service function takes an optional ``now``/``today`` so tests (and a
clerk recording yesterday's handover) control the clock. The zone itself is
the archive's (``archive.localtime``).

A date a person gives (``dt.date``, not ``dt.datetime``) is a day in
Paraguay, never midnight UTC: ``moment_of_day`` turns it into the instant
stored for it.
"""

from __future__ import annotations

import datetime as dt

from archive.localtime import (LOCAL_ZONE, aware, fmt_date, fmt_datetime, local_date,
                               local_midnight, local_today, utcnow)

__all__ = ["LOCAL_ZONE", "FUTURE_TOLERANCE", "aware", "as_utc", "fmt_date", "fmt_datetime",
           "fmt_moment", "local_date", "local_midnight", "local_today", "moment_of_day",
           "utcnow"]

# A recorded handover or receipt may be this much ahead of the server's clock
# (another machine's clock, a form filled in a minute early); more is a typing mistake.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Stored instants are UTC: SQLite keeps a datetime's digits and drops its offset."""
    return aware(moment).astimezone(dt.timezone.utc)


def moment_of_day(day: dt.date, *, earliest: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The instant recorded for something that happened on ``day`` (a local date).

    Today is now; an earlier day is its local noon, but never before
    ``earliest`` (the dispatch was prepared that same afternoon), so the
    stored instant stays on the given day and after what came before it.
    """
    now = as_utc(now)
    if day >= local_date(now):
        return now
    noon = local_midnight(day) + dt.timedelta(hours=12)
    return min(max(noon, as_utc(earliest)), now)


def fmt_moment(value: dt.date | dt.datetime) -> str:
    """What a person reads for a date they gave: the day, or day and time for an instant."""
    return fmt_datetime(value) if isinstance(value, dt.datetime) else fmt_date(value)
