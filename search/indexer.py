"""Bring the index up to date with the database, in batches.

A document asks to be (re)indexed by setting ``index_due``. ``index_pending``
takes such documents in id order, writes each batch with one Whoosh writer
(delete the document's entries, add its pages, commit) and then clears
``index_due`` with a compare-and-set on ``updated_at``: a document changed
while its batch was being written keeps ``index_due`` and is picked up again.

Callers must hold the index lock (``search.lock``) outside tests; the queue
task in ``search.tasks`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from whoosh import index as windex
from whoosh.index import Index

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document, utcnow
from archive.services import Services
from archive.signals import mark_changed as mark_for_indexing  # re-exported: search's callers

from . import index as search_index
from .entries import INDEXABLE, DocumentData, load_documents, page_entries
from .merge import MERGE_SMALL_FAST, OPTIMIZE_FAST, preload_lengths, small_segments
from .parallel import POOL_MB, worker_count, write_parallel

log = logging.getLogger(__name__)

WRITER_TIMEOUT_S = 30.0  # wait this long for Whoosh's file lock before raising LockError
# Documents in these states are handled when due: indexed, or (error) their entries removed.
# Documents still being received or processed wait: their finish sets index_due again.
HANDLED = (*INDEXABLE, DocumentStatus.ERROR)

# Documents per committed segment in a rebuild: larger segments leave less for the final
# merge to do (it works term by segment); 2 000 documents' postings fit the pool.
REBUILD_BATCH = 2000

# A rebuild of fewer batches than this is written in this process (see ``rebuild``).
PARALLEL_MIN_BATCHES = 1

# Passes over the due documents per call: the second picks up documents edited while the
# first was writing; the bound keeps a row whose compare-and-set never matches from looping.
MAX_PASSES = 3

Progress = Callable[[int], None]


def mark_all_for_rebuild(session: Session) -> int:
    """Every searchable document is due (the index was emptied); ``updated_at`` is kept."""
    result = session.execute(update(Document).where(Document.status.in_(INDEXABLE))
                             .values(index_due=True, updated_at=Document.updated_at))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_count(services: Services) -> int:
    with session_scope(services.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Document).where(
            Document.index_due.is_(True), Document.status.in_(HANDLED))) or 0)


def prepare_index(services: Services) -> Index:
    """Open the index; replace a missing, outdated or damaged one and queue its rebuild."""
    index_dir = services.settings.index_dir
    state = search_index.index_state(index_dir)
    if state is not search_index.IndexState.OK:
        log.warning("índice de búsqueda %s: %s; se reconstruye desde la base de datos",
                    index_dir, search_index.STATE_MESSAGES.get(state, state))
        ix = search_index.reset_index(index_dir)
    else:
        ix = windex.open_dir(str(index_dir))
    if search_index.needs_rebuild(index_dir):
        with session_scope(services.sessions) as session:
            n = mark_all_for_rebuild(session)
        search_index.clear_rebuild_marker(index_dir)
        log.info("índice de búsqueda vacío: %d documento(s) a indexar", n)
    return ix


Seen = list[tuple[int, object]]  # (document id, updated_at as read)


def _select_due(services: Services, after_id: int, batch: int, *,
                with_content: bool = True) -> tuple[Seen, dict[int, DocumentData]]:
    """One consistent read: the next due documents, their ``updated_at`` and their content."""
    with session_scope(services.sessions) as session:
        rows = session.execute(
            select(Document.id, Document.updated_at)
            .where(Document.index_due.is_(True), Document.status.in_(HANDLED),
                   Document.id > after_id)
            .order_by(Document.id).limit(batch)).all()
        docs = load_documents(session, [r.id for r in rows]) if with_content else {}
    return [(r.id, r.updated_at) for r in rows], docs


def write_batch(ix: Index, document_ids: Sequence[int], docs: dict[int, DocumentData], *,
                merge: bool = True, absent: Container[int] = ()) -> int:
    """Replace the entries of ``document_ids`` in one writer; returns the entries added.

    ``merge=False`` commits a new segment without merging small ones (a rebuild
    merges once at the end instead of at every batch: see ``rebuild``).
    ``absent`` are documents known to have no entries (a rebuild's first write
    of each): deleting them would look the id up in every segment, and a
    rebuild has hundreds of segments before its final merge.
    """
    added = 0
    writer = preload_lengths(ix.writer(timeout=WRITER_TIMEOUT_S, delay=0.25, limitmb=POOL_MB))
    try:
        for doc_id in document_ids:
            if doc_id not in absent:
                writer.delete_by_term("document_id", doc_id)  # type: ignore[arg-type]
            doc = docs.get(doc_id)
            if doc is not None and doc.indexable:
                for entry in page_entries(doc):
                    writer.add_document(**entry)
                    added += 1
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        raise
    if merge:
        merge_small(ix)
    return added


def merge_small(ix: Index) -> bool:
    """Merge the small segments, when Whoosh's rule says so, the fast way; True if merged.

    Whoosh's own merge after each commit (``MERGE_SMALL``) pushes every
    posting of the merged segments through its sorting pool: indexing the
    same pages in batches of 200 slowed from 166 pages/s at 20 000 pages to
    under 100 at 60 000 (``bench/index_steady.py``). Same segments, merged as
    ``optimize`` merges (``search.merge``).
    """
    if not small_segments(ix._segments()):
        return False
    writer = preload_lengths(ix.writer(timeout=WRITER_TIMEOUT_S, delay=0.25))
    try:
        writer.commit(mergetype=MERGE_SMALL_FAST)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return True


def _clear_due(services: Services, seen: Seen) -> int:
    """``index_due = False`` only where the row is as it was read; returns how many."""
    if not seen:
        return 0
    table = cast(Table, Document.__table__)
    stmt = (update(table)
            .where(table.c.id == bindparam("doc_id"), table.c.updated_at == bindparam("seen"),
                   table.c.index_due.is_(True))
            .values(index_due=False, indexed_at=bindparam("now"), updated_at=table.c.updated_at))
    now = utcnow()
    with session_scope(services.sessions) as session:
        result = session.connection().execute(
            stmt, [{"doc_id": i, "seen": u, "now": now} for i, u in seen])
        return int(result.rowcount or 0)


def index_pending(services: Services, batch: int = 200, *, max_batches: int | None = None,
                  progress: Progress | None = None, merge: bool = True,
                  empty_index: bool = False) -> int:
    """Index (or unindex) every due document; returns how many documents were written.

    Stops after ``max_batches`` batches when given, so a queue task can hand
    the worker back and re-enqueue itself instead of running for an hour.
    ``empty_index``: the index was just emptied (a rebuild), so a document
    not yet written by this call has nothing to delete.
    """
    ix = prepare_index(services)
    done = batches = 0
    written: set[int] = set()
    for _ in range(MAX_PASSES):
        after_id, found = 0, 0
        while max_batches is None or batches < max_batches:
            seen, docs = _select_due(services, after_id, batch)
            if not seen:
                break
            ids = [i for i, _ in seen]
            absent = {i for i in ids if i not in written} if empty_index else set()
            write_batch(ix, ids, docs, merge=merge, absent=absent)
            if empty_index:
                written.update(ids)
            cleared = _clear_due(services, seen)
            if cleared < len(seen):
                log.info("índice: %d documento(s) cambiaron durante el lote; se reindexan",
                         len(seen) - cleared)
            done += len(seen)
            found += len(seen)
            batches += 1
            after_id = ids[-1]
            if progress:
                progress(len(seen))
        if not found or (max_batches is not None and batches >= max_batches):
            break  # up to date, or out of budget
    return done


def remove_documents(services: Services, document_ids: Iterable[int]) -> int:
    """Drop the entries of documents deleted from the database; returns how many were given."""
    ids = list(document_ids)
    if ids:
        write_batch(prepare_index(services), ids, {})
    return len(ids)


def _due_batches(services: Services, batch: int) -> Iterator[tuple[list[int], Seen]]:
    after_id = 0
    while True:
        seen, _ = _select_due(services, after_id, batch, with_content=False)
        if not seen:
            return
        ids = [i for i, _ in seen]
        yield ids, seen
        after_id = ids[-1]


def _rebuild_parallel(services: Services, ix: Index, batch: int, workers: int,
                      progress: Progress | None) -> int:
    """One pass over the due documents, each batch a segment written by a worker process."""
    done = 0

    def committed(seen: Seen, _pages: int) -> None:
        nonlocal done
        _clear_due(services, seen)  # a document changed meanwhile stays due
        done += len(seen)
        if progress:
            progress(len(seen))

    write_parallel(services.settings, ix, _due_batches(services, batch), committed,
                   workers=workers, timeout=WRITER_TIMEOUT_S)
    return done


def rebuild(services: Services, batch: int = REBUILD_BATCH, *,
            on_start: Callable[[int], None] | None = None, progress: Progress | None = None,
            workers: int | None = None) -> int:
    """Empty the index and fill it again from the database, one committed batch at a time.

    With more than one worker (one per core by default) the batches are
    written by worker processes (``search.parallel``); what changed meanwhile
    is then indexed here, as any due document.
    """
    search_index.reset_index(services.settings.index_dir)
    ix = prepare_index(services)  # consumes the marker: marks every searchable document due
    total = due_count(services)
    if on_start:
        on_start(total)
    # Each batch is committed as its own segment, unmerged: merging at every commit rewrites
    # the growing index again and again (indexing speed halved between 3 000 and 20 000
    # pages). One merge at the end leaves a single segment, the fastest to search.
    # Starting worker processes costs a second or two: not worth it for a few batches.
    n = worker_count(workers) if workers is not None or total > PARALLEL_MIN_BATCHES * batch else 1
    done = _rebuild_parallel(services, ix, batch, n, progress) if n > 1 else 0
    done += index_pending(services, batch=batch, progress=progress, merge=False,
                          empty_index=n == 1)
    optimize(ix)
    return done


def optimize(ix: Index) -> None:
    """Merge every segment into one (after a rebuild), without Whoosh's sorting pool.

    See ``search.merge``: Whoosh's own ``optimize=True`` took as long as the
    indexing before it.
    """
    writer = preload_lengths(ix.writer(timeout=WRITER_TIMEOUT_S, delay=0.25))
    try:
        segments = writer.segments
        if not segments or (len(segments) == 1 and not segments[0].has_deletions()):
            writer.cancel()  # nothing to merge: empty, or one clean segment already
            return
        writer.commit(mergetype=OPTIMIZE_FAST)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
