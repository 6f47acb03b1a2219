"""The one indexing task: every write to the index in production goes through it.

The task lives on its own queue (``services.index_huey``): any process may
ask for a run, but only the index writer consumes it, so machines that only
do OCR never need the index folder (``ARCHIVO_INDEXADOR=dedicado``). Requests
are cheap wake-up calls (the due documents are in the database), so asking
twice costs one empty query. The task takes the index lock, so two writers
never write at once; a locked index or Whoosh's ``LockError`` fails the run
and huey retries it with growing delays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh.index import LockError

from archive.services import Services
from archive.signals import DocumentsChanged, Sweep

from .indexer import due_count, index_pending, remove_documents
from .lock import index_lock

log = logging.getLogger(__name__)

TASK_NAME = "archivo.indexar"
BATCH = 200
MAX_BATCHES_PER_RUN = 25  # then re-enqueue, so a big backlog never holds a worker for long


@dataclass
class IndexTasks:
    index: Any


def register_index_task(services: Services) -> IndexTasks:
    """Register "archivo.indexar" on this archive's index queue (once) and return it.

    Every worker registers it, whether it writes the index or not: its subscribers
    (documents changed, sweep) enqueue onto the index queue, and only its consumer
    runs the task.
    """
    huey = services.index_huey
    existing: IndexTasks | None = getattr(huey, "_archivo_index_tasks", None)
    if existing is not None:
        return existing
    services.signals.connect(DocumentsChanged, lambda _event: request_indexing(services))
    services.signals.connect(Sweep, lambda _event: request_if_due(services))
    # Created here, not per run, so the lock is known to huey: a consumer started with
    # flush_locks=True clears one left behind by a killed process.
    lock = index_lock(services)

    @huey.task(retries=8, retry_delay=2, retry_backoff=2, name=TASK_NAME)
    def index(deleted: list[int] | None = None) -> int:
        try:
            with lock:
                if deleted:
                    remove_documents(services, deleted)
                done = index_pending(services, batch=BATCH, max_batches=MAX_BATCHES_PER_RUN)
        except LockError:
            log.warning("índice de búsqueda ocupado (bloqueo de Whoosh); se reintentará")
            raise
        if done >= BATCH * MAX_BATCHES_PER_RUN and due_count(services):
            index()  # a backlog bigger than one run: continue in a fresh run
        return done

    tasks = IndexTasks(index=index)
    huey._archivo_index_tasks = tasks  # type: ignore[attr-defined]
    return tasks


def request_indexing(services: Services, deleted: Iterable[int] | None = None) -> None:
    """Wake the indexer; ``deleted`` are ids of documents removed from the database."""
    ids = sorted(set(deleted)) if deleted else None
    register_index_task(services).index(ids)


def request_if_due(services: Services) -> bool:
    """For a periodic sweeper: wake the indexer if documents wait and no message does.

    A message already queued will index them; adding one per sweep would only
    pile up while the index writer is stopped.
    """
    if due_count(services) and services.index_huey.pending_count() == 0:
        request_indexing(services)
        return True
    return False


def start_index_sweeper(services: Services, stop: threading.Event,
                        interval_s: float | None = None) -> threading.Thread:
    """The index writer's own sweep: a lost wake-up is found even with no OCR worker running."""
    interval = interval_s or max(1.0, services.settings.lease_s / 2)

    def run() -> None:
        while not stop.is_set():
            try:
                request_if_due(services)
            except Exception:  # noqa: BLE001 - logged; tried again next interval
                log.exception("barrido del índice fallido")
            stop.wait(interval)

    thread = threading.Thread(target=run, name="archivo-barrido-indice", daemon=True)
    thread.start()
    return thread
