"""Helpers for the search tests: documents inserted as rows (no OCR), like ingest leaves them.

The index is derived from database text, so most search tests need no scans
at all; one end-to-end test in test_search_index.py ingests a real one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence

from sqlalchemy import select

from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.keys import page_key
from archive.models import (
    Blob,
    Document,
    DocumentIdentifier,
    DocumentSupply,
    Page,
    RegionalUnit,
    Supply,
)
from archive.services import Services
from ingest.derivatives import words_blob
from archive.words import Word

_counter = itertools.count(1)


def words_for(text: str, *, top: int = 10) -> list[Word]:
    """Fake OCR boxes: one line, each word 10 px per character."""
    out, left = [], 10
    for word in text.split():
        out.append(Word(word, left, top, 10 * len(word), 12, 95.0, 0))
        left += 10 * len(word) + 6
    return out


def add_supply(services: Services, nis: str, regional_code: str | None) -> None:
    with session_scope(services.sessions) as s:
        unit_id = s.scalar(select(RegionalUnit.id).where(RegionalUnit.code == regional_code)) \
            if regional_code else None
        s.merge(Supply(nis=nis, holder_name="Titular", regional_unit_id=unit_id))


def add_document(services: Services, pages: Sequence[str], *, nis: Sequence[str] = (),
                 doc_type: DocumentType = DocumentType.CONTRATO,
                 status: DocumentStatus = DocumentStatus.LISTO,
                 document_date: dt.date | None = None, received_at: dt.datetime | None = None,
                 identifiers: Sequence[tuple[str, str]] = (), title: str | None = None,
                 with_words: bool = False, index_due: bool = True) -> int:
    n = next(_counter)
    sha = hashlib.sha256(f"doc-{n}-{id(services)}".encode()).hexdigest()
    with session_scope(services.sessions) as s:
        blob = Blob(sha256=sha, size=1, media_type="image/png", storage_key=f"originals/{sha}")
        s.add(blob)
        s.flush()
        doc = Document(
            archive_number=f"ARC-2024-{n:06d}", doc_type=doc_type, status=status,
            title=title if title is not None else f"{doc_type.label} · NIS {', '.join(nis)}",
            document_date=document_date, original_blob_id=blob.id, page_count=len(pages),
            received_at=received_at or dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc),
            index_due=index_due,
        )
        s.add(doc)
        s.flush()
        for i, text in enumerate(pages, start=1):
            key = None
            if with_words:
                key = page_key(sha, i, "words")
                services.store.put_bytes(key, words_blob(words_for(text)))
            s.add(Page(document_id=doc.id, number=i, text=text, words_key=key))
        for value in nis:
            s.add(DocumentSupply(document_id=doc.id, nis=value, source=LinkSource.OCR))
        for kind, value in identifiers:
            s.add(DocumentIdentifier(document_id=doc.id, kind=kind, value=value))
        return doc.id


def set_text(services: Services, doc_id: int, page: int, text: str, *, mark_due: bool) -> None:
    with session_scope(services.sessions) as s:
        row = s.scalar(select(Page).where(Page.document_id == doc_id, Page.number == page))
        assert row is not None
        row.text = text
        if mark_due:
            from search.indexer import mark_for_indexing

            mark_for_indexing(s, [doc_id])


def numbers(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.archive_number for h in results.hits]
