"""One place that writes history: a dispatch event and the matching audit record.

Both go into the caller's transaction, so a refused or failed change leaves
neither behind.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from archive.audit import record

from .enums import DispatchState
from .models import Dispatch, DispatchEvent
from .permissions import Actor


def log(session: Session, d: Dispatch, actor: Actor, action: str, *,
        from_state: DispatchState | None, at: dt.datetime, note: str = "",
        details: dict[str, Any] | None = None) -> DispatchEvent:
    """Append an event (from_state -> d.state) and an audit record ``despacho.<action>``."""
    ev = DispatchEvent(actor=actor.username, action=action, from_state=from_state,
                       to_state=d.state, note=note, at=at)
    d.events.append(ev)
    audit = {"numero": d.number, "desde": from_state.value if from_state else None,
             "hacia": d.state.value}
    if note:
        audit["nota"] = note
    audit.update(details or {})
    session.flush()
    record(session, actor.username, f"despacho.{action}", "despacho", d.number, audit)
    return ev
