"""Human document numbers that are sequential and never reused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .identifiers import ARCHIVE_PREFIX, DISPATCH_PREFIX, sequence_number
from .models import Sequence


def next_value(session: Session, name: str) -> int:
    """Increment and return a named counter inside the caller's transaction.

    The UPDATE comes first so the row lock (PostgreSQL) or the write lock
    (SQLite) is held before reading; a rolled-back transaction gives its
    value back, a committed one never does.
    """
    for _ in range(2):
        result = session.execute(update(Sequence).where(Sequence.name == name)
                                 .values(value=Sequence.value + 1))
        if result.rowcount:  # type: ignore[attr-defined]
            return int(session.scalar(select(Sequence.value).where(Sequence.name == name)) or 0)
        try:
            with session.begin_nested():  # a concurrent first use may insert the row too
                session.add(Sequence(name=name, value=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"no se pudo reservar un número de la secuencia {name}")


def archive_number(session: Session, today: dt.date | None = None) -> str:
    """``ARC-2026-000123``: the counter restarts each year, the prefix keeps numbers unique."""
    return _yearly(session, ARCHIVE_PREFIX, today)


def dispatch_number(session: Session, today: dt.date | None = None) -> str:
    """``ENV-2026-000123``: a dispatch's number, counted like archive numbers."""
    return _yearly(session, DISPATCH_PREFIX, today)


def _yearly(session: Session, prefix: str, today: dt.date | None) -> str:
    year = (today or dt.date.today()).year
    return sequence_number(prefix, year, next_value(session, f"{prefix}-{year}"))
