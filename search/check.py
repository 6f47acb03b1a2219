"""Compare the index with the database: missing, stale and extra entries, and repair them.

The database decides what the index should hold: one entry per page of every
searchable document, each with the fingerprint (``stamp``) of its content.
Documents waiting for the indexer (``index_due``) or still being processed
are reported apart, not as problems: the queue is about to handle them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from whoosh import index as windex

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document
from archive.services import Services

from . import index as search_index
from .entries import load_documents, page_entries
from .indexer import index_pending, mark_for_indexing, prepare_index, rebuild, write_batch

IN_FLUX = (DocumentStatus.RECIBIDO, DocumentStatus.PROCESANDO)


@dataclass
class IndexReport:
    state: search_index.IndexState
    documents: int = 0  # searchable documents in the database
    expected_entries: int = 0
    index_entries: int = 0
    missing: set[int] = field(default_factory=set)  # document ids
    stale: set[int] = field(default_factory=set)
    extra: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    numbers: dict[int, str] = field(default_factory=dict)  # id -> archive number, for the report

    @property
    def problems(self) -> int:
        broken = 0 if self.state is search_index.IndexState.OK else 1
        return broken + len(self.missing | self.stale | self.extra)

    @property
    def ok(self) -> bool:
        return self.problems == 0


def _index_entries(services: Services) -> dict[str, tuple[int, str]]:
    ix = windex.open_dir(str(services.settings.index_dir))
    with ix.searcher() as searcher:
        return {f["key"]: (int(f["document_id"]), f.get("stamp", ""))
                for f in searcher.reader().all_stored_fields()}


def check_consistency(services: Services, batch: int = 500) -> IndexReport:
    """Read the whole index and every document once, in batches."""
    state = search_index.index_state(services.settings.index_dir)
    report = IndexReport(state)
    if state is not search_index.IndexState.OK:
        return report
    try:
        indexed = _index_entries(services)
    except Exception:  # noqa: BLE001 - a segment that opens but cannot be read
        report.state = search_index.IndexState.CORRUPT
        return report
    report.index_entries = len(indexed)
    by_doc: dict[int, list[str]] = defaultdict(list)
    for key, (doc_id, _) in indexed.items():
        by_doc[doc_id].append(key)
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            rows = session.execute(select(Document.id, Document.archive_number, Document.status,
                                          Document.index_due)
                                   .where(Document.id > after).order_by(Document.id)
                                   .limit(batch)).all()
            if not rows:
                break
            docs = load_documents(session, [r.id for r in rows])
        after = rows[-1].id
        for r in rows:
            report.numbers[r.id] = r.archive_number
            doc = docs[r.id]
            want = {e["key"]: e["stamp"] for e in page_entries(doc)} if doc.indexable else {}
            have = {k: indexed[k][1] for k in by_doc.pop(r.id, [])}
            report.documents += doc.indexable
            report.expected_entries += len(want)
            if r.status in IN_FLUX or want == have:
                continue
            if r.index_due:
                report.pending.add(r.id)
                continue
            if any(k not in have for k in want):
                report.missing.add(r.id)
            elif any(have[k] != stamp for k, stamp in want.items()):
                report.stale.add(r.id)
            if any(k not in want for k in have):
                report.extra.add(r.id)
    report.extra |= set(by_doc)  # documents no longer in the database
    return report


def repair(services: Services, report: IndexReport, batch: int = 200) -> IndexReport:
    """Fix what ``report`` found (caller holds the index lock), then check again."""
    if report.state is not search_index.IndexState.OK:
        rebuild(services, batch=batch)
        return check_consistency(services)
    with session_scope(services.sessions) as session:
        existing = {r.id: r.status for r in session.execute(
            select(Document.id, Document.status).where(
                Document.id.in_(sorted(report.missing | report.stale | report.extra))))}
        reindex = [i for i, status in existing.items()
                   if status in (DocumentStatus.LISTO, DocumentStatus.REVISAR)]
        mark_for_indexing(session, reindex)
    drop = sorted((report.extra | report.missing | report.stale) - set(reindex))
    if drop:
        write_batch(prepare_index(services), drop, {})
    index_pending(services, batch=batch)
    return check_consistency(services)
