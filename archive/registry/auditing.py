"""Appending many audit events in one go (an import may change thousands of supplies).

Same chain as :func:`archive.audit.record`, but the predecessor hash is read
once and a single flush writes the whole batch.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.audit import GENESIS, event_hash
from archive.audit_key import session_key
from archive.models import AuditEvent, utcnow


Event = tuple[str, str, str, dict[str, Any]]  # action, object type, object id, details


def record_many(session: Session, actor: str, events: Iterable[Event]) -> int:
    """``events`` are (action, object_type, object_id, details); returns how many were written."""
    events = list(events)
    if not events:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(4242001)"))  # same lock as record()
    last = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    prev = session.scalar(last) or GENESIS
    actor = actor or "sistema"
    key = session_key(session)
    rows = []
    for action, object_type, object_id, details in events:
        at = utcnow()
        h = event_hash(prev, at, actor, action, object_type, str(object_id), details)
        rows.append(AuditEvent(at=at, actor=actor, action=action, object_type=object_type,
                               object_id=str(object_id), details=details, prev_hash=prev, hash=h,
                               mac=key.seal(h) if key is not None else None))
        prev = h
    session.add_all(rows)
    session.flush()
    return len(rows)
