"""Append-only audit trail with a hash chain.

Each event stores the hash of the event before it, so editing or deleting a
past event breaks the chain and :func:`verify_chain` finds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import AuditEvent, utcnow

GENESIS = "0" * 64


def event_hash(prev_hash: str, at: dt.datetime, actor: str, action: str,
               object_type: str, object_id: str, details: dict[str, Any]) -> str:
    """Canonical JSON of the event fields plus the previous hash, SHA-256."""
    if at.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        at = at.replace(tzinfo=dt.timezone.utc)
    payload = json.dumps(
        [prev_hash, at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
         actor, action, object_type, object_id, details],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, actor: str, action: str, object_type: str, object_id: object,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (so it commits or rolls back with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialize appenders so two transactions never chain to the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    at = utcnow()
    details = dict(details or {})
    ev = AuditEvent(at=at, actor=actor or "sistema", action=action, object_type=object_type,
                    object_id=str(object_id), details=details, prev_hash=prev_hash)
    ev.hash = event_hash(prev_hash, at, ev.actor, action, object_type, ev.object_id, details)
    session.add(ev)
    session.flush()
    return ev


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str  # Spanish


def verify_chain(events: Iterable[AuditEvent]) -> list[ChainProblem]:
    """Check hashes and links of events given in id order."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    for ev in events:
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.id, f"El evento {ev.id} no sigue al anterior: "
                                                "falta o se alteró un evento previo."))
        expected = event_hash(ev.prev_hash, ev.at, ev.actor, ev.action, ev.object_type,
                              ev.object_id, ev.details)
        if expected != ev.hash:
            problems.append(ChainProblem(ev.id, f"El evento {ev.id} fue modificado después de registrarse."))
        prev_hash = ev.hash
    return problems
