"""Append-only audit trail with a hash chain, each link sealed with a key.

Each event stores the hash of the event before it, so editing or deleting a
past event breaks the chain and :func:`verify_chain` finds it. The hash is
public (:func:`event_hash`), so someone who can write the database could
recompute it; the seal (``mac``, HMAC-SHA256 of the hash with the audit key kept
outside the database, :mod:`archive.audit_key`) is what they cannot recompute.
Dropping the newest events is caught by the anchors (:mod:`archive.audit_anchor`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session, object_session

from .audit_key import AuditKey, session_key
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
    key = session_key(session)
    ev.mac = key.seal(ev.hash) if key is not None else None
    session.add(ev)
    session.flush()
    return ev


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str  # Spanish


class _FromSession:
    """Default of ``verify_chain(key=...)``: the key of the archive the events were read from."""


FROM_SESSION = _FromSession()


def _resolve(ev: AuditEvent, key: AuditKey | None | _FromSession) -> AuditKey | None:
    if not isinstance(key, _FromSession):
        return key
    session = object_session(ev)
    return session_key(session) if session is not None else None


def _seal_problem(ev: AuditEvent, expected: str, key: AuditKey) -> ChainProblem | None:
    """Events from ``key.since`` on must carry the seal of their (recomputed) hash."""
    if ev.mac is None and ev.id < key.since:
        return None  # written before the key existed: the plain chain is all there is
    if ev.mac is None:
        return ChainProblem(ev.id, f"El evento {ev.id} no tiene el sello de la clave de "
                                   "auditoría: se le quitó o se insertó sin la clave.")
    if not key.verify(expected, ev.mac):
        return ChainProblem(ev.id, f"El evento {ev.id} no coincide con su sello (clave de "
                                   "auditoría): se modificó y se recalcularon sus sumas sin "
                                   "la clave.")
    return None


def verify_chain(events: Iterable[AuditEvent],
                 key: AuditKey | None | _FromSession = FROM_SESSION) -> list[ChainProblem]:
    """Check hashes, links and seals of events given in id order.

    ``key`` defaults to the key of the archive whose session loaded the events;
    ``None`` (or events from a bare session) checks the public chain only.
    """
    problems: list[ChainProblem] = []
    prev_hash = GENESIS
    for ev in events:
        key = _resolve(ev, key)
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.id, f"El evento {ev.id} no sigue al anterior: "
                                                "falta o se alteró un evento previo."))
        expected = event_hash(ev.prev_hash, ev.at, ev.actor, ev.action, ev.object_type,
                              ev.object_id, ev.details)
        if expected != ev.hash:
            problems.append(ChainProblem(ev.id, f"El evento {ev.id} fue modificado después de registrarse."))
        elif key is not None and (sealed := _seal_problem(ev, expected, key)) is not None:
            problems.append(sealed)
        prev_hash = ev.hash
    return problems
