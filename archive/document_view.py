"""Everything shown about one document, read in one transaction.

The web page, the HTTP API and the CLI all show a document the same way; this
read model gathers it once. Object keys are returned, not URLs: the web layer
serves them through role-checked routes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from .labels import REVIEW_LABELS, action_label, detail_rows, identifier_label
from .models import AuditEvent, Document, Supply
from .review_reasons import describe

__all__ = ["REVIEW_LABELS", "DocumentView", "EventView", "LinkView", "PageView", "load_document"]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.timezone.utc) if moment and moment.tzinfo is None else moment


@dataclass
class LinkView:
    nis: str
    source: str
    source_label: str
    confidence: float
    created_by: str
    created_at: dt.datetime | None
    in_registry: bool
    holder_name: str = ""


@dataclass
class PageView:
    number: int
    text: str
    text_source: str
    ocr_confidence: float | None
    width: int
    height: int
    image_key: str | None
    thumb_key: str | None
    words_key: str | None


@dataclass
class EventView:
    at: dt.datetime | None
    actor: str
    action: str
    details: dict[str, Any]

    @property
    def action_label(self) -> str:
        """What happened, in Spanish (the code stays in ``action`` for the API)."""
        return action_label(self.action)

    @property
    def detail_rows(self) -> list[tuple[str, str]]:
        """(field, text) pairs a person reads; codes become labels."""
        return detail_rows(self.action, self.details)


@dataclass
class DocumentView:
    id: int
    archive_number: str
    doc_type: str
    doc_type_label: str
    doc_type_confidence: float | None
    title: str
    status: str
    status_label: str
    review_reasons: list[tuple[str, str]]
    error_code: str | None
    error_message: str | None
    document_date: dt.date | None
    received_at: dt.datetime | None
    received_by: str
    original_filename: str
    original_key: str
    original_media_type: str
    original_size: int
    sha256: str
    pdf_key: str | None
    page_count: int
    ocr_confidence: float | None
    expediente: str | None
    ot_number: str | None
    identifiers: list[tuple[str, str]]
    links: list[LinkView]
    pages: list[PageView] = field(default_factory=list)
    history: list[EventView] = field(default_factory=list)

    @property
    def nis(self) -> list[str]:
        return [link.nis for link in self.links]

    @property
    def identifier_rows(self) -> list[tuple[str, str]]:
        """(kind label, value): «Cédula 3456789», never the stored kind code."""
        return [(identifier_label(kind), value) for kind, value in self.identifiers]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_document(session: Session, document_id: int, *, with_text: bool = True,
                  history_limit: int = 200) -> DocumentView | None:
    doc = session.scalar(select(Document).where(Document.id == document_id).options(
        selectinload(Document.pages), selectinload(Document.supplies),
        selectinload(Document.identifiers), selectinload(Document.original),
        selectinload(Document.pdf)))
    if doc is None:
        return None
    nis = [link.nis for link in doc.supplies]
    holders = {n: h for n, h in session.execute(select(Supply.nis, Supply.holder_name)
                                                   .where(Supply.nis.in_(nis)))} if nis else {}
    links = [LinkView(l.nis, l.source.value, l.source.label, l.confidence, l.created_by,
                      _utc(l.created_at), l.nis in holders, holders.get(l.nis, ""))
             for l in sorted(doc.supplies, key=lambda l: l.nis)]
    pages = [PageView(p.number, p.text if with_text else "", p.text_source, p.ocr_confidence,
                      p.width, p.height, p.image_key, p.thumb_key, p.words_key)
             for p in doc.pages]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "documento",
                                 or_(AuditEvent.object_id == doc.archive_number,
                                     AuditEvent.object_id == str(doc.id)))
        .order_by(AuditEvent.id.desc()).limit(history_limit)).all()
    # Same words as the review queue: the reasons name the NIS they are about.
    reasons = describe([r for r in doc.review_reasons.split(",") if r], [l.nis for l in links],
                       {l.nis for l in links if not l.in_registry})
    return DocumentView(
        id=doc.id, archive_number=doc.archive_number, doc_type=doc.doc_type.value,
        doc_type_label=doc.doc_type.label, doc_type_confidence=doc.doc_type_confidence,
        title=doc.title, status=doc.status.value, status_label=doc.status.label,
        review_reasons=reasons, error_code=doc.error_code, error_message=doc.error_message,
        document_date=doc.document_date, received_at=_utc(doc.received_at),
        received_by=doc.received_by, original_filename=doc.original_filename,
        original_key=doc.original.storage_key, original_media_type=doc.original.media_type,
        original_size=doc.original.size, sha256=doc.original.sha256,
        pdf_key=doc.pdf.storage_key if doc.pdf else None, page_count=doc.page_count,
        ocr_confidence=doc.ocr_confidence, expediente=doc.expediente, ot_number=doc.ot_number,
        identifiers=sorted((i.kind, i.value) for i in doc.identifiers), links=links, pages=pages,
        history=[EventView(_utc(e.at), e.actor, e.action, e.details) for e in events])
