"""Whether a labelled folder or box is off the shelf for a reason the core cannot see.

A folder or box travelling in a courier dispatch is "away": it cannot be
lent or moved. Dispatches live in the ``dispatch`` package, which the core
may not import, so every service function that needs the answer takes an
:data:`AwayCheck` callable. The web pages and the CLI pass
``dispatch.physical_rules.dispatch_hold``; tests pass their own. The
parameter is required on purpose: forgetting the dispatch rule must be a
visible decision (:data:`NO_HOLDS`), never a silent default.

The same callable answers for a document's paper original when asked with
:func:`document_key` (``"doc:42"``): a label code can never contain a
colon, so the two questions cannot be confused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Hold:
    reason: str  # Spanish: "en tránsito a Regional Sur (despacho ENV-2026-000003)"
    blocks_move: bool = True  # a folder reserved for a dispatch may still move on the shelf


AwayCheck = Callable[[Session, str], Hold | None]
DOCUMENT_PREFIX = "doc:"


def document_key(document_id: int) -> str:
    """What to ask an :data:`AwayCheck` about the paper original of one document."""
    return f"{DOCUMENT_PREFIX}{document_id}"


def NO_HOLDS(session: Session, code: str) -> Hold | None:  # noqa: N802 - a constant in use
    """For archives without dispatches (and tests of other rules)."""
    return None
