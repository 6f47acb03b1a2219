"""Write the segments of a rebuild in several processes.

Whoosh is pure Python, so one process analyses and writes about 200 pages a
second whatever the machine. A rebuild (``archivo reindex``) starts from an
empty index, which makes it embarrassingly parallel: each batch of
documents becomes its own segment, written by a worker process without the
index lock (as Whoosh's own ``MpWriter`` sub-writers do) into a staging
folder beside the index (``.lotes``: every Whoosh commit deletes the segment
files its index does not list, so unlisted segments cannot wait in the
index folder itself). The parent, which holds the lock, moves each finished
segment into the index and adds it with one small commit, in batch order,
and only then marks the batch's documents as indexed, so a rebuild that
dies half-way leaves every document it had not committed still due.

Workers are started with ``spawn``: the rebuild may run inside a threaded
queue worker, where ``fork`` can copy a held lock into the child. Each
worker opens its own database connections (a connection never crosses a
process boundary).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.index import Index
from whoosh.writing import SegmentWriter

from archive.config import Settings
from archive.db import session_scope
from archive.services import Services

from .entries import load_documents, page_entries
from .schema import build_schema

STAGING = ".lotes"  # under the index folder; a leading dot keeps Whoosh from cleaning it

# Memory for a worker's posting pool before Whoosh spills it to temporary runs (and sorts
# them again from disk, which costs more than the indexing). Whoosh's default is 128 MB.
POOL_MB = 512

# Batches written at the same time per worker: one being written, one queued, so a
# worker never waits for the parent between batches.
IN_FLIGHT_PER_WORKER = 2

_services: Services | None = None


def worker_count(requested: int | None = None) -> int:
    """Processes for a rebuild: as asked, else one per core (at most 4: memory per worker)."""
    if requested is not None:
        return max(1, requested)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cores or 1))


def _worker_services(settings: Settings) -> Services:
    global _services
    if _services is None or _services.settings != settings:
        _services = Services(settings)
    return _services


def staging_dir(index_dir: Path) -> Path:
    return index_dir / STAGING


def write_segment(settings: Settings, document_ids: Sequence[int]) -> tuple[Any, int]:
    """In a worker: the segment holding the pages of ``document_ids`` (None if no pages).

    The segment is written into the staging folder; the parent moves it into
    the index (``add_segments``).
    """
    services = _worker_services(settings)
    with session_scope(services.sessions) as session:
        docs = load_documents(session, document_ids)
    ix = windex.open_dir(str(staging_dir(settings.index_dir)))
    writer = SegmentWriter(ix, _lk=False, limitmb=POOL_MB)
    added = 0
    try:
        for doc_id in document_ids:
            doc = docs.get(doc_id)
            if doc is not None and doc.indexable:
                for entry in page_entries(doc):
                    writer.add_document(**entry)
                    added += 1
        if not added:
            writer._close_segment()
            return None, 0
        return writer._finalize_segment(), added
    except BaseException:
        writer.cancel()
        raise


def add_segments(ix: Index, segments: list[Any], timeout: float) -> None:
    """Move finished segments from staging into the index and commit them there."""
    index_dir = Path(ix.storage.folder)
    staging = staging_dir(index_dir)
    for segment in segments:
        prefix = f"{segment.segment_id()}."
        for name in os.listdir(staging):
            if name.startswith(prefix):
                os.replace(staging / name, index_dir / name)
    writer = ix.writer(timeout=timeout, delay=0.25)
    try:
        writer.commit(mergetype=lambda _writer, existing: [*existing, *segments])
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise


Batch = tuple[Sequence[int], Any]  # the batch's document ids, and what to do once committed


def write_parallel(settings: Settings, ix: Index, batches: Iterator[Batch],
                   on_committed: Callable[[Any, int], None], *, workers: int,
                   timeout: float) -> int:
    """Write each batch as a segment in ``workers`` processes; commit them in batch order.

    ``on_committed(token, pages)`` runs after the batch's segment is in the
    index (``token`` is the batch's second item). Returns the pages added.
    """
    staging = staging_dir(settings.index_dir)
    shutil.rmtree(staging, ignore_errors=True)  # what a killed rebuild left behind
    staging.mkdir(parents=True)
    windex.create_in(str(staging), build_schema())
    context = multiprocessing.get_context("spawn")
    total = 0
    pending: list[tuple[Future[tuple[Any, int]], Any]] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            try:
                for ids, token in batches:
                    pending.append((pool.submit(write_segment, settings, list(ids)), token))
                    while len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                        total += _commit_first(ix, pending, on_committed, timeout)
                while pending:
                    total += _commit_first(ix, pending, on_committed, timeout)
            except BaseException:
                for future, _ in pending:
                    future.cancel()
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return total


def _commit_first(ix: Index, pending: list[tuple[Future[tuple[Any, int]], Any]],
                  on_committed: Callable[[Any, int], None], timeout: float) -> int:
    future, token = pending.pop(0)
    segment, added = future.result()
    if segment is not None:
        add_segments(ix, [segment], timeout)
    on_committed(token, added)
    return added
