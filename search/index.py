"""Opening, creating and checking the Whoosh index folder.

Beside the index live two small files: the schema version it was built with,
and a marker saying "this index was just (re)created empty: every document
must be indexed again". The indexer consumes the marker (see
``search.indexer``), so a lost or outdated index heals itself from the
database without anyone having to remember to rebuild it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from whoosh import index as windex
from whoosh.index import Index
from whoosh.searching import Searcher

from archive.errors import ArchivoError, ConfigError

from .schema import SCHEMA_VERSION, build_schema

VERSION_FILE = "archivo_schema_version"
REBUILD_MARKER = "archivo_reconstruir"
INSTANCE_FILE = "archivo_instancia"  # changes whenever the index is recreated
SETTING = "ARCHIVO_INDEX_DIR"
_INDEX_NAME = "MAIN"  # Whoosh's default index name: its files start with MAIN_ or _MAIN_


class IndexState(StrEnum):
    OK = "ok"
    MISSING = "falta"
    VERSION = "version"
    CORRUPT = "danado"


class IndexUnavailable(ArchivoError):
    """The index cannot answer queries now; the message tells the operator what to run.

    That message names commands and folders: pages and the API show
    ``PEOPLE_MESSAGE`` instead and log this one.
    """


# What a person on the web (or a system on the API) is told; the operator reads the log.
PEOPLE_MESSAGE = ("La búsqueda por texto no está disponible en este momento. Intente de nuevo "
                  "en unos minutos y, si sigue así, avise al administrador.")


STATE_MESSAGES = {
    IndexState.MISSING: "no hay índice de búsqueda",
    IndexState.VERSION: "el índice de búsqueda es de otra versión",
    IndexState.CORRUPT: "el índice de búsqueda está dañado",
}


def _mkdir(index_dir: Path) -> None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(SETTING, f"no se puede crear la carpeta {index_dir}: {exc.strerror}.") \
            from exc


def stored_version(index_dir: Path) -> int | None:
    try:
        return int((index_dir / VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def index_state(index_dir: Path) -> IndexState:
    """Cheap health check: present, current version, and every segment opens."""
    if not windex.exists_in(str(index_dir)):
        return IndexState.MISSING
    if stored_version(index_dir) != SCHEMA_VERSION:
        return IndexState.VERSION
    try:
        ix = windex.open_dir(str(index_dir))
        with ix.searcher() as searcher:
            searcher.doc_count_all()
    except Exception:  # noqa: BLE001 - any failure to read means the files are unusable
        return IndexState.CORRUPT
    return IndexState.OK


def reset_index(index_dir: Path) -> Index:
    """Replace whatever is in ``index_dir`` by an empty current index and ask for a rebuild."""
    _mkdir(index_dir)
    for child in index_dir.iterdir():  # only Whoosh's files: the folder may hold other things
        if child.is_file() and _is_index_file(child.name):
            child.unlink(missing_ok=True)
    ix = windex.create_in(str(index_dir), build_schema())
    (index_dir / INSTANCE_FILE).write_text(uuid.uuid4().hex)
    (index_dir / REBUILD_MARKER).write_text("1")
    (index_dir / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    return ix


def _is_index_file(name: str) -> bool:
    if name in (VERSION_FILE, REBUILD_MARKER, INSTANCE_FILE):
        return True
    if name == f"{_INDEX_NAME}_WRITELOCK":  # another process may be holding it
        return False
    return name.startswith((f"{_INDEX_NAME}_", f"_{_INDEX_NAME}_"))


def create_or_open(index_dir: Path) -> Index:
    """Open the index; a missing, outdated or unreadable one is replaced by an empty one.

    The replacement carries the rebuild marker, so the next indexing run
    fills it from the database (``needs_rebuild``).
    """
    _mkdir(index_dir)
    if index_state(index_dir) is IndexState.OK:
        return windex.open_dir(str(index_dir))
    return reset_index(index_dir)


def needs_rebuild(index_dir: Path) -> bool:
    return (index_dir / REBUILD_MARKER).exists()


def clear_rebuild_marker(index_dir: Path) -> None:
    (index_dir / REBUILD_MARKER).unlink(missing_ok=True)


def open_for_search(index_dir: Path) -> Index:
    """Open the index for reading, never creating or repairing it (that is the writer's job)."""
    if not windex.exists_in(str(index_dir)):
        raise IndexUnavailable(f"{STATE_MESSAGES[IndexState.MISSING]} en {index_dir}. "
                               "Ejecute «archivo init» o «archivo reindex».")
    if stored_version(index_dir) != SCHEMA_VERSION:
        raise IndexUnavailable(f"{STATE_MESSAGES[IndexState.VERSION]}; "
                               "ejecute «archivo reindex».")
    try:
        return windex.open_dir(str(index_dir))
    except Exception as exc:  # noqa: BLE001
        raise IndexUnavailable(f"{STATE_MESSAGES[IndexState.CORRUPT]} ({exc}); "
                               "ejecute «archivo reindex».") from exc


_local = threading.local()  # Whoosh readers are not safe to share between threads


def _instance(index_dir: Path) -> str:
    try:
        return (index_dir / INSTANCE_FILE).read_text().strip()
    except OSError:
        return ""


@dataclass
class _Cached:
    instance: str
    generation: int | None  # None for an empty index
    index: Index
    searcher: Searcher


def cached_searcher(index_dir: Path) -> Searcher:
    """This thread's searcher for the latest version of the index; do not close it.

    Opening a searcher reads and unpickles the index's table of contents,
    which costs more than most queries, so it is kept until the index changes
    (a new generation, or a new instance id: the index was recreated). Whoosh's
    own ``Searcher.refresh`` is not used: reusing segment readers across
    generations can keep deletions from showing.
    """
    cache: dict[str, _Cached] = _local.__dict__.setdefault("searchers", {})
    key, instance = str(index_dir), _instance(index_dir)
    entry = cache.pop(key, None)
    if (entry is not None and entry.instance == instance
            and stored_version(index_dir) == SCHEMA_VERSION
            and entry.index.latest_generation() == entry.generation):
        cache[key] = entry
        return entry.searcher
    if entry is not None:
        entry.searcher.close()
    ix = open_for_search(index_dir)
    searcher = ix.searcher()
    cache[key] = _Cached(instance, searcher.reader().generation(), ix, searcher)
    return searcher


def forget_searcher(index_dir: Path) -> None:
    """Drop this thread's cached searcher (after an error, so the next try reopens)."""
    cache: dict[str, _Cached] = _local.__dict__.setdefault("searchers", {})
    entry = cache.pop(str(index_dir), None)
    if entry is not None:
        try:
            entry.searcher.close()
        except Exception:  # noqa: BLE001 - it was broken already
            pass


def check_index(index_dir: Path) -> int:
    """Return the number of indexed pages; raise ConfigError when the index is unusable."""
    state = index_state(index_dir)
    if state is IndexState.MISSING:
        raise ConfigError(SETTING, f"no hay índice en {index_dir}. Ejecute «archivo init».")
    if state is not IndexState.OK:
        raise ConfigError(SETTING, f"{STATE_MESSAGES[state]}; ejecute «archivo reindex».")
    ix = windex.open_dir(str(index_dir))
    with ix.searcher() as searcher:
        return int(searcher.doc_count())
