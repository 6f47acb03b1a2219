"""Opening, creating and checking the Whoosh index folder."""

from __future__ import annotations

from pathlib import Path

from whoosh import index as windex
from whoosh.index import Index

from archive.errors import ConfigError

from .schema import SCHEMA_VERSION, build_schema

VERSION_FILE = "archivo_schema_version"
SETTING = "ARCHIVO_INDEX_DIR"


def create_or_open(index_dir: Path) -> Index:
    """Open the index, creating it (or recreating an incompatible one) when needed.

    Returns the index; ``needs_rebuild(index_dir)`` tells the caller whether
    the content must be rebuilt from the database.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(SETTING, f"no se puede crear la carpeta {index_dir}: {exc.strerror}.")
    if windex.exists_in(str(index_dir)) and stored_version(index_dir) == SCHEMA_VERSION:
        return windex.open_dir(str(index_dir))
    ix = windex.create_in(str(index_dir), build_schema())
    (index_dir / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    return ix


def stored_version(index_dir: Path) -> int | None:
    try:
        return int((index_dir / VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def check_index(index_dir: Path) -> int:
    """Return the number of indexed pages; raise ConfigError when the index is unusable."""
    if not windex.exists_in(str(index_dir)):
        raise ConfigError(SETTING, f"no hay índice en {index_dir}. Ejecute «archivo init».")
    if stored_version(index_dir) != SCHEMA_VERSION:
        raise ConfigError(SETTING, "el índice tiene otra versión de esquema; ejecute «archivo reindex».")
    try:
        ix = windex.open_dir(str(index_dir))
        with ix.searcher() as searcher:
            return int(searcher.doc_count())
    except Exception as exc:
        raise ConfigError(SETTING, f"el índice está dañado ({exc}); ejecute «archivo reindex».")
