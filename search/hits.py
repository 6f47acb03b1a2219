"""Turn ranked document ids into result rows: metadata from the database, snippet, word boxes.

Only the rows of the requested result page are loaded here, so the cost does
not grow with the number of matches. The database is the source of truth: a
document the index still lists but that is gone or no longer searchable is
left out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from archive.db import read_scope
from archive.enums import DocumentStatus, DocumentType
from archive.errors import StorageError
from archive.models import Document, DocumentSupply, Page
from archive.services import Services
from archive.words import read_words_blob

from .entries import INDEXABLE, DocumentData
from .highlight import HitTerms, hit_boxes, hit_spans, snippet
from .results import DocumentHit, WordBox

log = logging.getLogger(__name__)

# (document id, score or None, best page number or None = pick the first page with a hit)
Ranked = tuple[int, float | None, int | None]


def _boxes(services: Services, words_key: str | None, terms: HitTerms) -> list[WordBox]:
    if not words_key or not terms:
        return []
    try:
        return hit_boxes(read_words_blob(services.store.get_bytes(words_key)), terms)
    except (StorageError, ValueError, OSError):
        log.warning("no se pudieron leer las palabras de %s", words_key, exc_info=True)
        return []


def _best_page(candidates: list[tuple[int, str, str | None]], terms: HitTerms,
               ) -> tuple[int, str, str | None, list[tuple[int, int]]]:
    """The first page with a hit (else the first page), with its hit spans."""
    for number, text, words_key in candidates:
        spans = hit_spans(text, terms)
        if spans:
            return number, text, words_key, spans
    if candidates:
        return *candidates[0], []
    return 0, "", None, []


class _Meta(NamedTuple):
    """What a result row shows of its document."""

    id: int
    archive_number: str
    doc_type: DocumentType
    status: DocumentStatus
    document_date: dt.date | None
    received_at: dt.datetime
    title: str | None
    nis: list[str]


def _read_meta(session: Session, ids: list[int]) -> dict[int, _Meta]:
    nis: dict[int, list[str]] = {}
    for doc_id, number in session.execute(
            select(DocumentSupply.document_id, DocumentSupply.nis)
            .where(DocumentSupply.document_id.in_(ids)).order_by(DocumentSupply.nis)):
        nis.setdefault(doc_id, []).append(number)
    return {r.id: _Meta(*r, nis=nis.get(r.id, [])) for r in session.execute(
        select(Document.id, Document.archive_number, Document.doc_type, Document.status,
               Document.document_date, Document.received_at, Document.title)
        .where(Document.id.in_(ids)))}


def _known_meta(known: Mapping[int, DocumentData]) -> dict[int, _Meta]:
    return {d.id: _Meta(d.id, d.archive_number, DocumentType(d.doc_type), d.status,
                        d.document_date, d.received_at, d.title, d.nis)
            for d in known.values()}


def _read_pages(session: Session, ranked: Sequence[Ranked],
                ) -> dict[int, list[tuple[int, str, str | None]]]:
    """Each document's candidate pages: its best page when known, else all of them."""
    any_page = [doc_id for doc_id, _, page in ranked if page is None]
    one_page = [and_(Page.document_id == doc_id, Page.number == page)
                for doc_id, _, page in ranked if page is not None]
    pages: dict[int, list[tuple[int, str, str | None]]] = {}
    conditions = one_page + ([Page.document_id.in_(any_page)] if any_page else [])
    for doc_id, number, text, words_key in session.execute(
            select(Page.document_id, Page.number, Page.text, Page.words_key)
            .where(or_(*conditions)).order_by(Page.document_id, Page.number)):
        pages.setdefault(doc_id, []).append((number, text or "", words_key))
    return pages


def load_hits(services: Services, ranked: Sequence[Ranked], terms: HitTerms, *,
              boxes: bool = True, session: Session | None = None,
              known: Mapping[int, DocumentData] | None = None) -> list[DocumentHit]:
    """Result rows for ``ranked``, in its order.

    ``known``: the documents as already read (an exact lookup has them), so
    only their pages are read here; ``session``: read within the caller's.
    """
    if not ranked:
        return []
    ids = [doc_id for doc_id, _, _ in ranked]
    with (nullcontext(session) if session is not None
          else read_scope(services.sessions)) as s:
        docs = _known_meta(known) if known is not None else _read_meta(s, ids)
        pages = _read_pages(s, ranked)
    out: list[DocumentHit] = []
    for doc_id, score, _ in ranked:
        doc = docs.get(doc_id)
        if doc is None or doc.status not in INDEXABLE:
            continue
        number, text, words_key, spans = _best_page(pages.get(doc_id, []), terms)
        out.append(DocumentHit(
            document_id=doc.id, archive_number=doc.archive_number, doc_type=str(doc.doc_type),
            doc_type_label=doc.doc_type.label, status=str(doc.status), nis=doc.nis,
            document_date=doc.document_date, received_at=doc.received_at, title=doc.title or "",
            score=score, page=number, snippet=snippet(text, terms, spans=spans),
            boxes=_boxes(services, words_key, terms) if boxes else [],
        ))
    return out
