"""From database rows to index entries: one entry per page, with its document's fields.

Loading is done for a batch of documents with a handful of set-based queries
(never one query per document), so indexing and checking scale with the
number of batches, not of rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.enums import DocumentStatus
from archive.localtime import local_date
from archive.models import Document, DocumentIdentifier, DocumentSupply, Page, RegionalUnit, Supply

from .schema import IDENTIFIER_FIELDS

# Documents in these states are searchable; any other state has no entries.
INDEXABLE = (DocumentStatus.LISTO, DocumentStatus.REVISAR)


@dataclass
class DocumentData:
    id: int
    status: DocumentStatus
    updated_at: dt.datetime
    archive_number: str
    doc_type: str
    title: str
    document_date: dt.date | None
    received_at: dt.datetime
    nis: list[str] = field(default_factory=list)
    regional: list[str] = field(default_factory=list)
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    pages: list[tuple[int, str]] = field(default_factory=list)

    @property
    def indexable(self) -> bool:
        return self.status in INDEXABLE


def day_number(day: dt.date) -> int:
    """2024-03-05 -> 20240305: sortable, and readable in a range query."""
    return day.year * 10000 + day.month * 100 + day.day


def load_documents(session: Session, ids: Sequence[int], *,
                   with_pages: bool = True) -> dict[int, DocumentData]:
    """Everything the index needs about ``ids``, in five queries (four without page text)."""
    if not ids:
        return {}
    ids = list(ids)
    docs: dict[int, DocumentData] = {}
    rows = session.execute(select(
        Document.id, Document.status, Document.updated_at, Document.archive_number,
        Document.doc_type, Document.title, Document.document_date, Document.received_at,
    ).where(Document.id.in_(ids)))
    for r in rows:
        docs[r.id] = DocumentData(r.id, r.status, r.updated_at, r.archive_number,
                                  str(r.doc_type), r.title or "", r.document_date, r.received_at)
    for doc_id, nis in session.execute(select(DocumentSupply.document_id, DocumentSupply.nis)
                                       .where(DocumentSupply.document_id.in_(ids))
                                       .order_by(DocumentSupply.nis)):
        docs[doc_id].nis.append(nis)
    regional = select(DocumentSupply.document_id, RegionalUnit.code).join(
        Supply, Supply.nis == DocumentSupply.nis).join(
        RegionalUnit, RegionalUnit.id == Supply.regional_unit_id).where(
        DocumentSupply.document_id.in_(ids)).distinct()
    for doc_id, code in session.execute(regional):
        docs[doc_id].regional.append(code)
    for doc in docs.values():
        doc.regional.sort()
    ident = DocumentIdentifier
    for doc_id, kind, value in session.execute(
            select(ident.document_id, ident.kind, ident.value)
            .where(ident.document_id.in_(ids))
            .order_by(ident.kind, ident.value)):
        docs[doc_id].identifiers.setdefault(kind, []).append(value)
    if not with_pages:
        return docs
    for doc_id, number, text in session.execute(
            select(Page.document_id, Page.number, Page.text)
            .where(Page.document_id.in_(ids)).order_by(Page.document_id, Page.number)):
        docs[doc_id].pages.append((number, text or ""))
    return docs


def _stamp(entry: dict[str, Any]) -> str:
    payload = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def page_entries(doc: DocumentData) -> list[dict[str, Any]]:
    """The index entries of one document (a document without pages still gets one, page 0).

    Each carries a stamp: a fingerprint of its content, which is how a check
    tells a stale entry from a current one without trusting timestamps.
    """
    received = day_number(local_date(doc.received_at))
    common: dict[str, Any] = {
        "document_id": doc.id,
        "archive_number": doc.archive_number,
        "doc_type": doc.doc_type,
        "nis": ",".join(doc.nis),
        "regional": ",".join(doc.regional),
        "title": doc.title,
        "received": received,
        "date": day_number(doc.document_date) if doc.document_date else received,
    }
    common["year"] = str(common["date"] // 10000)
    if doc.document_date:
        common["document_date"] = day_number(doc.document_date)
    for kind in IDENTIFIER_FIELDS:
        common[kind] = ",".join(doc.identifiers.get(kind, []))
    out = []
    for number, text in doc.pages or [(0, "")]:
        entry = dict(common, key=f"{doc.id}:{number}", page=number, text=text)
        entry["stamp"] = _stamp(entry)
        entry["text_exact"] = text
        entry["regional_codes"] = entry["regional"].encode("utf-8")
        out.append(entry)
    return out
