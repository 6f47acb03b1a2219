"""Loans (préstamos) of physical folders to a person or office, with a due date.

A folder is lent only while it is on the shelf: not already lent (one open
loan per folder, enforced by a unique column), not away in a dispatch (the
``away`` callable), and not inside a box that is away. "Today" and the
overdue rule use Paraguay's calendar (``archive.localtime``): a loan due on
the 10th is overdue from the 11th.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.errors import ArchivoError
from archive.localtime import fmt_date, local_today
from archive.models import utcnow

from .folders import folder_hold_codes, get_folder, open_loan
from .holds import AwayCheck
from .locations import first_hold_of
from .models import Folder, Loan, Location

MAX_LOAN_DAYS = 366


def lend(session: Session, code: str, *, borrower: str, due: dt.date, actor: str,
         away: AwayCheck, note: str = "", now: dt.datetime | None = None) -> Loan:
    """Lend a folder until ``due`` (inclusive)."""
    now = now or utcnow()
    today = local_today(now)
    folder = get_folder(session, code)
    borrower = " ".join((borrower or "").split())
    if not borrower:
        raise ArchivoError("Indique a quién se presta la carpeta (persona u oficina).")
    if due < today:
        raise ArchivoError(f"La fecha de devolución ({fmt_date(due)}) ya pasó: use hoy "
                           f"({fmt_date(today)}) o una fecha posterior.")
    if (due - today).days > MAX_LOAN_DAYS:
        raise ArchivoError(f"Un préstamo no puede durar más de {MAX_LOAN_DAYS} días.")
    current = open_loan(session, folder)
    if current is not None:
        raise ArchivoError(f"La carpeta {folder.code} ya está prestada a {current.borrower} "
                           f"desde el {fmt_date(current.lent_at)}; no se puede prestar de nuevo "
                           "hasta que se devuelva.")
    held = first_hold_of(session, folder_hold_codes(folder), away, moving=False)
    if held is not None:
        raise ArchivoError(f"No se puede prestar la carpeta {folder.code}: {held[0]} está "
                           f"{held[1].reason}.")
    loan = Loan(folder_id=folder.id, borrower=borrower[:200], lent_at=now, lent_by=actor,
                due_date=due, note=note or "", open_folder_id=folder.id)
    session.add(loan)
    session.flush()
    audit.record(session, actor, "fisico.prestar", "carpeta", folder.code,
                 {"prestamo": loan.id, "a": loan.borrower, "vence": due.isoformat(),
                  "nota": note or ""})
    return loan


def return_folder(session: Session, code: str, *, actor: str, note: str = "",
                  now: dt.datetime | None = None) -> Loan:
    """The folder came back: close its open loan (it goes back to its recorded box)."""
    folder = get_folder(session, code)
    loan = open_loan(session, folder)
    if loan is None:
        raise ArchivoError(f"La carpeta {folder.code} no está prestada.")
    now = now or utcnow()
    loan.returned_at = now
    loan.returned_by = actor
    loan.return_note = note or ""
    loan.open_folder_id = None
    session.flush()
    late = max(0, (local_today(now) - loan.due_date).days)
    audit.record(session, actor, "fisico.devolver", "carpeta", folder.code,
                 {"prestamo": loan.id, "de": loan.borrower, "dias_de_atraso": late,
                  "nota": note or ""})
    return loan


def loans(session: Session, *, open_only: bool = True, overdue_on: dt.date | None = None,
          folder: Folder | None = None, limit: int | None = None) -> list[Loan]:
    """Loans, most urgent first; ``overdue_on`` keeps open ones due before that day."""
    query = select(Loan).options(selectinload(Loan.folder))
    if open_only or overdue_on is not None:
        query = query.where(Loan.returned_at.is_(None))
    if overdue_on is not None:
        query = query.where(Loan.due_date < overdue_on)
    if folder is not None:
        query = query.where(Loan.folder_id == folder.id)
        query = query.order_by(Loan.lent_at.desc(), Loan.id.desc())
    else:
        query = query.order_by(Loan.due_date, Loan.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def subtree_ids(session: Session, location: Location) -> list[int]:
    """The node and every node below it (a box has none; a shelf has its boxes)."""
    found, level = [location.id], [location.id]
    while level:
        level = list(session.scalars(select(Location.id).where(Location.parent_id.in_(level))))
        found += level
    return found


def open_loans_within(session: Session, location: Location) -> list[Loan]:
    """Open loans of the folders kept in ``location`` or below it, oldest first.

    A box cannot leave the shelf while one of its folders is out with someone.
    """
    return list(session.scalars(
        select(Loan).join(Folder, Folder.id == Loan.folder_id)
        .where(Loan.returned_at.is_(None),
               Folder.location_id.in_(subtree_ids(session, location)))
        .options(selectinload(Loan.folder)).order_by(Loan.lent_at, Loan.id)))


def folders_within(session: Session, location: Location) -> list[Folder]:
    """The folders kept in ``location`` or below it, by code."""
    return list(session.scalars(select(Folder).where(
        Folder.location_id.in_(subtree_ids(session, location))).order_by(Folder.code)))


def overdue_loans(session: Session, *, now: dt.datetime | None = None,
                  today: dt.date | None = None) -> list[Loan]:
    """Open loans whose due date has passed (Paraguay's calendar), most late first."""
    return loans(session, overdue_on=today or local_today(now))


def days_late(loan: Loan, today: dt.date) -> int:
    end = local_today(loan.returned_at) if loan.returned_at else today
    return max(0, (end - loan.due_date).days)
