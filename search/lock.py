"""The single-writer rule: whoever writes the index holds one named huey lock.

The lock lives in the index queue's storage (SQLite file or Redis), so it
holds across processes and machines; Whoosh's own file lock additionally protects
the index folder on one machine. The indexing task and the admin commands
(``archivo reindex``, ``archivo check --indice --reparar``) take the same lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from huey.api import TaskLock
from huey.exceptions import TaskLockedException

from archive.errors import ArchivoError
from archive.services import Services

LOCK_NAME = "archivo-indice"


class IndexBusy(ArchivoError):
    """Another process is writing the index."""


def index_lock(services: Services) -> TaskLock:
    return services.index_huey.lock_task(LOCK_NAME)


@contextmanager
def exclusive_writer(services: Services) -> Iterator[None]:
    """Hold the index lock for the block, or fail at once with a Spanish explanation."""
    lock = index_lock(services)
    try:
        lock.acquire()
    except TaskLockedException:
        raise IndexBusy("Otro proceso está escribiendo el índice de búsqueda (bloqueo "
                        f"«{LOCK_NAME}»). Espere a que termine y vuelva a intentarlo; si ningún "
                        "proceso está en marcha, use la opción --liberar-bloqueo.") from None
    try:
        yield
    finally:
        lock.release()


def release_stale_lock(services: Services) -> bool:
    """Forget a lock left behind by a process that was killed; True if there was one."""
    return bool(services.index_huey.flush_locks(LOCK_NAME))
