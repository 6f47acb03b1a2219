"""Paraguay's clock: instants are stored in UTC, people read days and hours in Asunción.

One place for the zone so the search index (document years), the dispatch
deadlines, the dashboard ("today") and every page agree on what day it is.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ArchivoError

LOCAL_ZONE = "America/Asuncion"


@lru_cache(maxsize=1)
def zone() -> dt.tzinfo:
    """Asunción's zone. ``tzdata`` is a dependency, so a missing zone is a broken install:
    say so instead of silently showing every time three hours off."""
    try:
        return ZoneInfo(LOCAL_ZONE)
    except ZoneInfoNotFoundError as exc:
        raise ArchivoError(f"No se encuentra la zona horaria {LOCAL_ZONE}: reinstale archivo "
                           "(«make install» instala el paquete tzdata).") from exc


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def local_datetime(moment: dt.datetime) -> dt.datetime:
    return aware(moment).astimezone(zone())


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in Paraguay of a stored instant."""
    return local_datetime(moment).date()


def local_today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant when ``day`` starts in Paraguay (for comparing stored instants)."""
    return dt.datetime.combine(day, dt.time(), zone()).astimezone(dt.timezone.utc)


def fmt_date(day: dt.date | dt.datetime | None) -> str:
    """dd/mm/aaaa, as people write dates in Paraguay; empty for no date."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = local_date(day)
    return day.strftime("%d/%m/%Y")


def iso_local(value: dt.date | dt.datetime | None) -> str | None:
    """ISO 8601 for machines: instants in Paraguay's time with their offset, days as days.

    One spelling for every API reply, so a client never has to guess whether a
    bare ``2026-11-01T12:00:00`` was UTC or local.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return local_datetime(value).isoformat(timespec="seconds")
    return value.isoformat()


def fmt_datetime(moment: dt.datetime | None) -> str:
    """dd/mm/aaaa hh:mm in Paraguay's time; empty for no instant."""
    return local_datetime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""
