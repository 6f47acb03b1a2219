"""The task queue: SQLite-backed huey by default, Redis-backed for several machines.

The queue is only a wake-up signal. The durable job is the document row
itself (status ``recibido``/``procesando`` with a lease), so a message lost
between commit and enqueue, or a worker killed mid-task, is recovered by the
sweeper, never lost.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey

from .config import Settings
from .errors import ConfigError


def queue_name(settings: Settings) -> str:
    """One queue per archive: derived from the database, so two archives never share jobs."""
    return "archivo-" + hashlib.sha1(settings.database_url.encode()).hexdigest()[:10]


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    url = urlsplit(settings.queue_url)
    name = queue_name(settings)
    if url.scheme == "sqlite":
        path = settings.queue_url.split("sqlite:///", 1)[-1]
        return SqliteHuey(name=name, filename=path, immediate=immediate, timeout=30)
    if url.scheme == "redis":
        try:
            # Priority-aware: indexing must not wait behind the whole OCR backlog.
            return PriorityRedisHuey(name=name, url=settings.queue_url, immediate=immediate)
        except Exception as exc:  # redis package missing or bad URL
            raise ConfigError("ARCHIVO_QUEUE_URL", f"no se pudo preparar la cola Redis: {exc}.")
    if url.scheme == "memory":
        return MemoryHuey(name=name, immediate=immediate)
    raise ConfigError("ARCHIVO_QUEUE_URL", "use sqlite:///archivo.db o redis://host:puerto/0.")


def check_queue(huey: Huey) -> int:
    """Return the number of pending messages; raise ConfigError if the queue is unreachable."""
    try:
        return int(huey.pending_count())
    except Exception as exc:
        raise ConfigError("ARCHIVO_QUEUE_URL", f"la cola de tareas no responde ({exc}).")
