"""Processing leases on documents: exactly one worker finishes each document.

A worker *claims* a document with a conditional UPDATE (only if it is new, or
its previous owner stopped sending heartbeats), keeps the lease fresh while
it works, and commits its results only if the lease is still its own. A
worker killed at any point simply stops renewing; another takes over after
``ARCHIVO_PLAZO_TRABAJO`` seconds and redoes the work from the stored original.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from typing import Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document, utcnow


def claim(sessions: sessionmaker[Session], document_id: int, lease_s: int) -> str | None:
    """Take the document for processing; None when it is done or another worker holds it."""
    token = str(uuid.uuid4())
    now = utcnow()
    stale = now - dt.timedelta(seconds=lease_s)
    with session_scope(sessions) as session:
        result = session.execute(
            update(Document)
            .where(Document.id == document_id)
            .where(or_(Document.status == DocumentStatus.RECIBIDO,
                       and_(Document.status == DocumentStatus.PROCESANDO,
                            or_(Document.claimed_at.is_(None), Document.claimed_at < stale))))
            .values(status=DocumentStatus.PROCESANDO, claim_token=token, claimed_at=now,
                    attempts=Document.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return token if result.rowcount else None  # type: ignore[attr-defined]


def renew(sessions: sessionmaker[Session], document_id: int, token: str) -> bool:
    with session_scope(sessions) as session:
        result = session.execute(
            update(Document).where(Document.id == document_id, Document.claim_token == token)
            .values(claimed_at=utcnow()).execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def still_owned(session: Session, document_id: int, token: str) -> Document | None:
    """Inside the finishing transaction: the document if the lease is still ours."""
    return session.scalar(select(Document).where(Document.id == document_id,
                                                 Document.claim_token == token))


def release(sessions: sessionmaker[Session], document_id: int, token: str) -> None:
    """Give the document back after a transient fault so a retry can claim it at once."""
    with session_scope(sessions) as session:
        session.execute(
            update(Document).where(Document.id == document_id, Document.claim_token == token)
            .values(status=DocumentStatus.RECIBIDO, claim_token=None, claimed_at=None)
            .execution_options(synchronize_session=False))


class Heartbeat:
    """Renews a lease in the background while work makes progress.

    ``lost`` is set if another worker took over. Renewals stop when nothing
    called :meth:`touch` for ``stall_s`` seconds: a hung decoder must not keep
    its document locked forever.
    """

    def __init__(self, renew_fn: Callable[[], bool], interval_s: float,
                 stall_s: float = float("inf")) -> None:
        self._renew = renew_fn
        self._interval = max(0.5, interval_s)
        self._stall_s = stall_s
        self._last_progress = time.monotonic()
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name="archivo-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def touch(self) -> None:
        self._last_progress = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            if time.monotonic() - self._last_progress > self._stall_s:
                return  # stalled: let the lease expire
            try:
                if not self._renew():
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a failed renewal is retried next tick
                continue
