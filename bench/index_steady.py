"""Steady indexing as the queue task does it: batches of 200 documents, Whoosh's usual
merges after each commit, one process (``search.tasks``), over an archive kept by
``bench/search.py --keep DIR``.

    .venv/bin/python bench/index_steady.py DIR

It empties the index of DIR and indexes every document again the way the
indexer task does after OCR (not the way ``archivo reindex`` does).
"""
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "search" would name
# bench/search.py instead of the package being measured.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from sqlalchemy import func, select  # noqa: E402

from archive.config import load_settings  # noqa: E402
from archive.db import session_scope  # noqa: E402
from archive.models import Page  # noqa: E402
from archive.services import Services  # noqa: E402
from search import BATCH, index_pending, prepare_index, reset_index  # noqa: E402


def main() -> None:
    svc = Services(load_settings({"ARCHIVO_HOME": sys.argv[1]}))
    with session_scope(svc.sessions) as session:
        n_pages = int(session.scalar(select(func.count()).select_from(Page)) or 0)
    reset_index(svc.settings.index_dir)
    prepare_index(svc)
    t, c = time.perf_counter(), time.process_time()
    done = index_pending(svc, batch=BATCH)
    w, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"index_pending(batch={BATCH}): {done} documentos, {n_pages} páginas en {w:.1f} s "
          f"= {n_pages / w:.0f} páginas/s (CPU {n_pages / cpu:.0f} páginas/s)")


if __name__ == "__main__":
    main()
