"""Detached read models of the physical archive for pages and the CLI.

Built inside a session, safe to use after it closes (plain dataclasses).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.localtime import local_today

from .folders import folder_hold_codes, get_folder, open_loan
from .holds import AwayCheck, Hold
from .loans import days_late, loans
from .locations import chain, contents_count, get_location, node_label, path_text
from .models import DocumentPlace, Folder, Loan, Location, LocationLevel, Move


@dataclass(frozen=True)
class LoanView:
    id: int
    folder_code: str
    folder_description: str
    nis: str | None
    borrower: str
    lent_at: dt.datetime
    lent_by: str
    due_date: dt.date
    note: str
    returned_at: dt.datetime | None
    returned_by: str
    return_note: str
    days_late: int

    @property
    def open(self) -> bool:
        return self.returned_at is None

    @property
    def overdue(self) -> bool:
        return self.open and self.days_late > 0


def loan_view(loan: Loan, today: dt.date) -> LoanView:
    f = loan.folder
    return LoanView(loan.id, f.code, f.description, f.nis, loan.borrower, loan.lent_at,
                    loan.lent_by, loan.due_date, loan.note, loan.returned_at, loan.returned_by,
                    loan.return_note, days_late(loan, today))


@dataclass(frozen=True)
class MoveView:
    at: dt.datetime
    actor: str
    from_text: str
    to_text: str
    note: str


@dataclass(frozen=True)
class DocRef:
    id: int
    archive_number: str
    doc_type: str
    title: str
    nis: list[str]


@dataclass(frozen=True)
class FolderSummary:
    code: str
    nis: str | None
    description: str
    borrower: str | None  # set while on loan


@dataclass(frozen=True)
class Crumb:
    code: str
    label: str


@dataclass(frozen=True)
class FolderDetail:
    code: str
    nis: str | None
    description: str
    location_code: str | None
    location_text: str
    crumbs: list[Crumb]
    created_at: dt.datetime
    created_by: str
    documents: list[DocRef]
    moves: list[MoveView]
    loans: list[LoanView]
    hold: str | None  # "en tránsito a ..." when a dispatch holds it or its box
    hold_blocks_move: bool = False  # reserved for a dispatch: may still move on the shelf

    @property
    def open_loan(self) -> LoanView | None:
        return next((ln for ln in self.loans if ln.open), None)


@dataclass(frozen=True)
class NodeSummary:
    code: str
    label: str
    level: str
    folder_count: int


@dataclass(frozen=True)
class LocationDetail:
    code: str
    name: str
    level: str
    depth: int
    label: str
    note: str
    crumbs: list[Crumb]
    children: list[NodeSummary]
    child_level: str | None  # name of the level below, None at the last level
    folders: list[FolderSummary]
    documents: list[DocRef]
    moves: list[MoveView]
    parent_choices: list[Crumb]  # where this node may be moved (nodes one level up)
    hold: str | None


@dataclass
class TreeNode:
    code: str
    label: str
    level: str
    depth: int
    folder_count: int
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def total_folders(self) -> int:
        return self.folder_count + sum(c.total_folders for c in self.children)


def _crumbs(location: Location | None) -> list[Crumb]:
    return [Crumb(n.code, node_label(n)) for n in chain(location)]


def _moves(session: Session, *, folder_id: int | None = None,
           location_id: int | None = None) -> list[MoveView]:
    query = select(Move).order_by(Move.at.desc(), Move.id.desc())
    query = (query.where(Move.folder_id == folder_id) if folder_id is not None
             else query.where(Move.location_id == location_id))
    return [MoveView(m.at, m.actor, path_text(m.from_location) if m.from_location else "—",
                     path_text(m.to_location) if m.to_location else "—", m.note)
            for m in session.scalars(query)]


def _documents(session: Session, *, folder_id: int | None = None,
               location_id: int | None = None) -> list[DocRef]:
    query = select(DocumentPlace).options(selectinload(DocumentPlace.document))
    query = (query.where(DocumentPlace.folder_id == folder_id) if folder_id is not None
             else query.where(DocumentPlace.location_id == location_id))
    docs = sorted((p.document for p in session.scalars(query)), key=lambda d: d.archive_number)
    return [DocRef(d.id, d.archive_number, d.doc_type.label, d.title, d.nis_list) for d in docs]


def _first_hold(session: Session, codes: list[str],
                away: AwayCheck | None) -> tuple[str, Hold] | None:
    for code in codes if away is not None else []:
        hold = away(session, code)  # type: ignore[misc]
        if hold is not None:
            return code, hold
    return None


def _reason(codes: list[str], found: tuple[str, Hold] | None) -> str | None:
    """The hold in words: the thing's own state, or that of the box around it."""
    if found is None:
        return None
    code, hold = found
    return hold.reason if code == codes[0] else f"{code} está {hold.reason}"


def folder_summary(session: Session, folder: Folder) -> FolderSummary:
    loan = open_loan(session, folder)
    return FolderSummary(folder.code, folder.nis, folder.description,
                         loan.borrower if loan else None)


def folder_detail(session: Session, code: str, *, away: AwayCheck | None = None,
                  now: dt.datetime | None = None) -> FolderDetail:
    folder = get_folder(session, code)
    today = local_today(now)
    codes = folder_hold_codes(folder)
    held = _first_hold(session, codes, away)
    return FolderDetail(
        folder.code, folder.nis, folder.description,
        folder.location.code if folder.location else None, path_text(folder.location),
        _crumbs(folder.location), folder.created_at, folder.created_by,
        _documents(session, folder_id=folder.id), _moves(session, folder_id=folder.id),
        [loan_view(ln, today) for ln in loans(session, open_only=False, folder=folder)],
        _reason(codes, held), held is not None and held[1].blocks_move)


def location_detail(session: Session, code: str, *,
                    away: AwayCheck | None = None) -> LocationDetail:
    node = get_location(session, code)
    codes = [n.code for n in chain(node)][::-1]
    counts = contents_count(session)
    kids = session.scalars(select(Location).where(Location.parent_id == node.id)
                           .order_by(Location.code)).all()
    below = session.get(LocationLevel, node.depth + 1)
    folders = session.scalars(select(Folder).where(Folder.location_id == node.id)
                              .order_by(Folder.code)).all()
    parents = session.scalars(select(Location).where(Location.depth == node.depth - 1)
                              .order_by(Location.code)).all() if node.depth > 1 else []
    return LocationDetail(
        node.code, node.name, node.level.name, node.depth, node_label(node), node.note,
        _crumbs(node),
        [NodeSummary(k.code, node_label(k), k.level.name, counts.get(k.id, 0)) for k in kids],
        below.name if below else None,
        [folder_summary(session, f) for f in folders],
        _documents(session, location_id=node.id), _moves(session, location_id=node.id),
        [Crumb(p.code, path_text(p)) for p in parents if p.id != node.parent_id],
        _reason(codes, _first_hold(session, codes, away)))


def tree(session: Session) -> list[TreeNode]:
    """The whole tree with folder counts, in one query (an archive has hundreds of boxes)."""
    counts = contents_count(session)
    nodes = session.scalars(select(Location).options(selectinload(Location.level))
                            .order_by(Location.depth, Location.code)).all()
    by_id: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    for n in nodes:
        t = TreeNode(n.code, node_label(n), n.level.name, n.depth, counts.get(n.id, 0))
        by_id[n.id] = t
        parent = by_id.get(n.parent_id) if n.parent_id is not None else None
        (parent.children if parent else roots).append(t)
    return roots


def all_locations(session: Session) -> list[Crumb]:
    """Every node with its full path, for "move to" pickers."""
    nodes = session.scalars(select(Location).order_by(Location.depth, Location.code)).all()
    return sorted((Crumb(n.code, path_text(n)) for n in nodes), key=lambda c: c.label)


def unplaced_folders(session: Session) -> list[FolderSummary]:
    folders = session.scalars(select(Folder).where(Folder.location_id.is_(None))
                              .order_by(Folder.code)).all()
    return [folder_summary(session, f) for f in folders]


def overdue_count(session: Session, today: dt.date) -> int:
    return int(session.scalar(select(func.count()).select_from(Loan).where(
        Loan.returned_at.is_(None), Loan.due_date < today)) or 0)
