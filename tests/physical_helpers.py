"""Register labelled boxes and folders, as the shelf must hold them before a dispatch takes them."""

from __future__ import annotations

from sqlalchemy import select

from archive import physical as ph
from archive.db import session_scope
from archive.services import Services

SHELF_CODE = "EST-PRUEBA"


def _shelf(db) -> str:  # type: ignore[no-untyped-def]
    """One depósito › sala › estante for the test's boxes (made on first use)."""
    if db.scalar(select(ph.Location.id).where(ph.Location.code == SHELF_CODE)) is None:
        dep = ph.add_location(db, parent=None, name="Central", code="DEP-PRUEBA", actor="prueba")
        sala = ph.add_location(db, parent=dep.code, code="SALA-PRUEBA", actor="prueba")
        ph.add_location(db, parent=sala.code, code=SHELF_CODE, actor="prueba")
    return SHELF_CODE


def register_boxes(services: Services, *codes: str) -> None:
    """Boxes with these label codes on a test shelf (the labels dispatch tests send)."""
    with session_scope(services.sessions) as db:
        shelf = _shelf(db)
        for code in codes:
            ph.add_location(db, parent=shelf, code=code, actor="prueba")


def register_folders(services: Services, *codes: str, box: str | None = None) -> None:
    """Folders with these label codes, in ``box`` when given."""
    with session_scope(services.sessions) as db:
        for code in codes:
            ph.create_folder(db, code=code, location=box, actor="prueba")
