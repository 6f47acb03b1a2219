"""The task queues: SQLite-backed huey by default, Redis-backed for several machines.

Two queues on the same backend: documents (OCR, fixity), taken by every
worker, and the index queue, taken by whoever writes the search index
(``ARCHIVO_INDEXADOR``). Keeping them apart is what lets OCR machines run
without the index folder: they only ever put messages on the index queue.

The queue is only a wake-up signal. The durable job is the document row
itself (status ``recibido``/``procesando`` with a lease), so a message lost
between commit and enqueue, or a worker killed mid-task, is recovered by the
sweeper, never lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .config import Settings
from .enums import DocumentStatus
from .errors import ConfigError
from .localtime import aware, utcnow
from .models import Document

log = logging.getLogger(__name__)


def queue_name(settings: Settings) -> str:
    """One queue per archive: derived from the database, so two archives never share jobs."""
    return "archivo-" + hashlib.sha1(settings.database_url.encode()).hexdigest()[:10]


INDEX_SUFFIX = "-indice"


def index_queue_name(settings: Settings) -> str:
    return queue_name(settings) + INDEX_SUFFIX


def make_index_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """The index queue: same backend as the document queue, its own messages and locks."""
    return make_huey(settings, immediate=immediate, name=index_queue_name(settings))


def make_huey(settings: Settings, *, immediate: bool = False, name: str | None = None) -> Huey:
    url = urlsplit(settings.queue_url)
    name = name or queue_name(settings)
    if url.scheme == "sqlite":
        path = settings.queue_url.split("sqlite:///", 1)[-1]
        return SqliteHuey(name=name, filename=path, immediate=immediate, timeout=30)
    if url.scheme == "redis":
        try:
            # Priority-aware storage, as before indexing had its own queue: switching the
            # class would strand the messages of an installation being upgraded.
            return PriorityRedisHuey(name=name, url=settings.queue_url, immediate=immediate)
        except Exception as exc:  # redis package missing or bad URL
            raise ConfigError("ARCHIVO_QUEUE_URL", f"no se pudo preparar la cola Redis: {exc}.")
    if url.scheme == "memory":
        return MemoryHuey(name=name, immediate=immediate)
    raise ConfigError("ARCHIVO_QUEUE_URL", "use sqlite:///archivo.db o redis://host:puerto/0.")


def wake(send: Callable[[], object], what: str, *, quiet: bool = False) -> bool:
    """Send a wake-up message; if the queue is unreachable, say the sweeper will catch up.

    The durable job is already committed (a document row, ``index_due``), so a lost
    message only delays the work: the failure is logged, never raised. ``what`` is
    the Spanish action that failed ("encolar el documento 12"). ``quiet`` keeps the
    log to debug level for callers that tell the person themselves (the CLI).
    Returns whether the message was sent.
    """
    try:
        send()
    except Exception:  # noqa: BLE001 - see above: the sweeper re-finds the durable job
        log.log(logging.DEBUG if quiet else logging.WARNING,
                "no se pudo %s; el barrido lo retomará", what, exc_info=True)
        return False
    return True


def check_queue(huey: Huey) -> int:
    """Return the number of pending messages; raise ConfigError if the queue is unreachable."""
    try:
        return int(huey.pending_count())
    except Exception as exc:
        raise ConfigError("ARCHIVO_QUEUE_URL", f"la cola de tareas no responde ({exc}).")


@dataclass(frozen=True)
class Backlog:
    """How far the durable jobs are behind, for ``/healthz``.

    ``abandoned``: documents in ``procesando`` whose lease ran out more than one lease
    ago: the sweeper (every half lease) would have re-queued them, so no worker is
    running, or they fail again and again. ``oldest_wait``: age of the oldest document
    still ``recibido``.
    """

    abandoned: int
    oldest_wait: dt.timedelta | None


def backlog(session: Session, *, lease_s: float, now: dt.datetime | None = None) -> Backlog:
    now = now or utcnow()
    # claimed_at older than two leases: its lease ended more than one lease ago.
    edge = now - dt.timedelta(seconds=2 * lease_s)
    abandoned = session.scalar(
        select(func.count()).select_from(Document)
        .where(Document.status == DocumentStatus.PROCESANDO,
               or_(Document.claimed_at.is_(None), Document.claimed_at < edge)))
    oldest = session.scalar(select(func.min(Document.received_at))
                            .where(Document.status == DocumentStatus.RECIBIDO))
    return Backlog(int(abandoned or 0), now - aware(oldest) if oldest is not None else None)
