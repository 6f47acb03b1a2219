"""The dispatch side of the physical archive's rules: is this folder, box or original away?

``archive.physical`` may not import ``dispatch`` (the core stays at the
bottom), so its lend/move/place functions take an ``away`` callable; this is
the one the web pages and the CLI pass. It reads the same session as the
caller's unit of work, so the answer and the change it guards are one
transaction. Asked with ``archive.physical.holds.document_key`` it answers
for a document's paper original instead of a label.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.models import RegionalUnit
from archive.physical.holds import DOCUMENT_PREFIX, Hold

from .clock import fmt_date
from .location import AT_UNIT, MISSING, RESERVED, Location, locate


def dispatch_hold(session: Session, code: str) -> Hold | None:
    """A hold when the label (or original) travels in, sits at a unit through, or went
    missing in a dispatch.

    Reserved in a draft or prepared outbound dispatch, it still sits on the
    shelf: it may move there, but lending it would break the dispatch.
    Reserved in a return trip it is still at the unit, so nothing on the
    shelf may touch it.
    """
    if code.startswith(DOCUMENT_PREFIX):
        where = locate(session, document_id=int(code[len(DOCUMENT_PREFIX):]))
        text = _original_text(session, where)
    else:
        where = locate(session, label_code=code)
        text = where.text
    if where.away or where.status == MISSING:
        return Hold(text, blocks_move=True)
    if where.status == RESERVED:
        return Hold(text, blocks_move=where.regional_unit_id is not None)
    return None


def _original_text(session: Session, where: Location) -> str:
    """Where an original is, naming the unit and the dispatch that took it there."""
    if where.status != AT_UNIT or where.regional_unit_id is None:
        return where.text
    unit = session.get(RegionalUnit, where.regional_unit_id)
    name = unit.name if unit is not None else "una unidad regional"
    received = f" (recibido el {fmt_date(where.since)})" if where.since else ""
    return f"en la unidad regional {name} desde el envío {where.dispatch_number}{received}"
