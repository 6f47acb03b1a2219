"""Whether a labelled folder or box is off the shelf for a reason the core cannot see.

A folder or box travelling in a courier dispatch is "away": it cannot be
lent or moved. Dispatches live in the ``dispatch`` package, which the core
may not import, so every service function that needs the answer takes an
:data:`AwayCheck` callable. The web pages and the CLI pass
``dispatch.physical_rules.dispatch_hold``; tests pass their own. The
parameter is required on purpose: forgetting the dispatch rule must be a
visible decision (:data:`NO_HOLDS`), never a silent default.
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


def NO_HOLDS(session: Session, code: str) -> Hold | None:  # noqa: N802 - a constant in use
    """For archives without dispatches (and tests of other rules)."""
    return None
