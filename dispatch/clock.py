"""Time for dispatches: instants are stored in UTC, days are counted in Paraguay.

Every service function takes an optional ``now``/``today`` so tests (and a
clerk recording yesterday's handover) control the clock.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_ZONE = "America/Asuncion"


@lru_cache(maxsize=1)
def _zone() -> dt.tzinfo:
    try:
        return ZoneInfo(LOCAL_ZONE)
    except ZoneInfoNotFoundError:  # no tz database: UTC is off by 3 hours, not wrong by days
        return dt.timezone.utc


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in Paraguay of a stored instant."""
    return aware(moment).astimezone(_zone()).date()


def local_today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def fmt_date(day: dt.date | dt.datetime | None) -> str:
    """dd/mm/aaaa, as people write dates in Paraguay; empty for no date."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = local_date(day)
    return day.strftime("%d/%m/%Y")


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant when ``day`` starts in Paraguay (for comparing stored instants)."""
    return dt.datetime.combine(day, dt.time(), _zone()).astimezone(dt.timezone.utc)
