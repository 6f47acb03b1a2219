"""The dispatch side of the physical archive's rules: is this labelled folder or box away?

``archive.physical`` may not import ``dispatch`` (the core stays at the
bottom), so its lend/move functions take an ``away`` callable; this is the
one the web pages and the CLI pass. It reads the same session as the
caller's unit of work, so the answer and the change it guards are one
transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.physical.holds import Hold

from .location import MISSING, RESERVED, locate


def dispatch_hold(session: Session, code: str) -> Hold | None:
    """A hold when the label travels in, sits at a unit through, or went missing in a dispatch.

    Reserved in a draft or prepared dispatch, it still sits on the shelf: it
    may move there, but lending it would break the dispatch.
    """
    where = locate(session, label_code=code)
    if where.away or where.status == MISSING:
        return Hold(where.text, blocks_move=True)
    if where.status == RESERVED:
        return Hold(where.text, blocks_move=False)
    return None
