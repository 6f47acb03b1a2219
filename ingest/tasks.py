"""Queue tasks of the ingest pipeline and the sweeper that makes the queue lossless.

The queue message is a wake-up call; the document row is the durable job.
``sweep`` re-queues documents whose message was lost (crash between commit
and enqueue, Redis flushed) or whose worker died mid-document (stale lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import and_, or_, select

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document, utcnow
from archive.queue import wake
from archive.services import Services
from archive.signals import Sweep

from .process import TRANSIENT, run_document, sweep_scratch

log = logging.getLogger(__name__)

RECEIVED_GRACE_S = 120  # a new document normally gets its message at once


@dataclass
class Tasks:
    process: Any


def register_tasks(services: Services) -> Tasks:
    """Register the tasks on this archive's huey instance (once) and return them."""
    huey = services.huey
    existing: Tasks | None = getattr(huey, "_archivo_tasks", None)
    if existing is not None:
        return existing

    @huey.task(retries=6, retry_delay=5, retry_backoff=2, name="archivo.procesar")
    def process(document_id: int) -> str:
        try:
            done = run_document(services, document_id)
        except TRANSIENT:
            log.warning("documento %s: falla transitoria, se reintentará", document_id, exc_info=True)
            raise
        for waiting_id in done.waiting:  # the parts a split made: each its own job
            wake(partial(enqueue_processing, services, waiting_id),
                 f"encolar el documento {waiting_id}")
        return done.status

    tasks = Tasks(process=process)
    huey._archivo_tasks = tasks  # type: ignore[attr-defined]
    return tasks


def enqueue_processing(services: Services, document_id: int) -> None:
    register_tasks(services).process(document_id)


def stale_documents(services: Services, *, received_grace_s: int = RECEIVED_GRACE_S,
                    include_received: bool = True) -> list[int]:
    now = utcnow()
    lease_edge = now - dt.timedelta(seconds=services.settings.lease_s)
    received_edge = now - dt.timedelta(seconds=received_grace_s)
    stale_claim = and_(Document.status == DocumentStatus.PROCESANDO,
                       or_(Document.claimed_at.is_(None), Document.claimed_at < lease_edge))
    waiting = and_(Document.status == DocumentStatus.RECIBIDO, Document.received_at <= received_edge)
    condition = or_(stale_claim, waiting) if include_received else stale_claim
    with session_scope(services.sessions) as session:
        return list(session.scalars(select(Document.id).where(condition).order_by(Document.id)))


def sweep(services: Services, tasks: Tasks | None = None, *,
          received_grace_s: int = RECEIVED_GRACE_S) -> int:
    """Re-queue documents nobody is working on; returns how many.

    Waiting (``recibido``) documents are re-queued only when the queue is empty:
    while a backlog drains, their messages are most likely still in it, and
    re-sending on every sweep would flood the queue with duplicates.
    """
    tasks = tasks or register_tasks(services)
    idle = services.huey.pending_count() == 0
    ids = stale_documents(services, received_grace_s=received_grace_s, include_received=idle)
    for doc_id in ids:
        tasks.process(doc_id)
    if ids:
        log.info("barrido: %d documento(s) reencolado(s)", len(ids))
    return len(ids)


def start_sweeper(services: Services, stop: threading.Event) -> threading.Thread:
    """Sweep at start (nothing is in flight yet) and then every half lease.

    A thread rather than a huey periodic task: crontab granularity is one
    minute, and recovery after a crash should take about one lease.
    """
    interval = max(1.0, services.settings.lease_s / 2)

    def run() -> None:
        grace = 0  # at start-up any document still waiting lost its message
        try:
            sweep_scratch(services)
        except OSError:
            log.warning("no se pudo limpiar la carpeta temporal", exc_info=True)
        while not stop.is_set():
            try:
                sweep(services, received_grace_s=grace)
                services.signals.send(Sweep())
            except Exception:  # noqa: BLE001 - logged; tried again next interval
                log.exception("barrido fallido")
            grace = RECEIVED_GRACE_S
            stop.wait(interval)

    thread = threading.Thread(target=run, name="archivo-barrido", daemon=True)
    thread.start()
    return thread
