"""The review queue (bandeja de revisión): documents in ``revisar`` and why.

A read model shared by the web page, the HTTP API and the CLI. Oldest first,
because a document waiting for review is invisible to NIS searches as
confirmed material and the oldest has waited longest. Filters: reason (one of
``review_reasons``, which is a comma list), document type, and regional unit
(through the regional unit of the supplies the document is linked to).

Each item carries its candidates (the NIS links with source, confidence,
whether the registry knows them and the holder) and the page worth showing
first: the first page whose text contains a candidate. The decisions
themselves (confirm, correct, reject) are in :mod:`archive.editing`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, selectinload

from .document_view import REVIEW_LABELS
from .enums import DocumentStatus, DocumentType
from .localtime import iso_local
from .errors import ArchivoError
from .models import Document, DocumentSupply, Page, RegionalUnit, Supply
from .identifiers import ocr_digits
from .review_reasons import describe
from .words import Word

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
EXCERPT_CHARS = 600
# Characters OCR reads in place of digits (as in ingest's extractor), for finding a NIS's words.
_SEPARATORS = "[.\\s-]?"
MAX_WORDS_PER_NIS = 4  # "4 992 383" is three words; a NIS never spans more


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.timezone.utc) if moment and moment.tzinfo is None else moment


@dataclass(frozen=True)
class Candidate:
    nis: str
    source: str
    source_label: str
    confidence: float
    in_registry: bool
    holder_name: str
    regional_unit_code: str | None
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"nis": self.nis, "origen": self.source, "origen_nombre": self.source_label,
                "confianza": round(self.confidence, 3), "en_registro": self.in_registry,
                "titular": self.holder_name, "unidad_regional": self.regional_unit_code,
                "vinculado_por": self.created_by}


@dataclass(frozen=True)
class PageRef:
    """The page to show first, with its stored keys (served by role-checked routes)."""

    number: int
    width: int
    height: int
    image_key: str | None
    thumb_key: str | None
    words_key: str | None
    matched_nis: tuple[str, ...]  # candidates whose digits appear in the page text
    excerpt: str  # start of the page text (untrusted OCR text: escape when shown)

    def as_dict(self) -> dict[str, Any]:
        return {"numero": self.number, "ancho": self.width, "alto": self.height,
                "nis_encontrados": list(self.matched_nis), "texto": self.excerpt}


@dataclass(frozen=True)
class ReviewItem:
    id: int
    archive_number: str
    doc_type: str
    doc_type_label: str
    doc_type_confidence: float | None
    title: str
    received_at: dt.datetime | None
    received_by: str
    original_filename: str
    page_count: int
    ocr_confidence: float | None
    reasons: tuple[tuple[str, str], ...]  # (code, Spanish label)
    candidates: tuple[Candidate, ...]
    best_page: PageRef | None

    @property
    def nis(self) -> list[str]:
        return [c.nis for c in self.candidates]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "numero": self.archive_number, "tipo": self.doc_type,
                "tipo_nombre": self.doc_type_label,
                "tipo_confianza": self.doc_type_confidence, "titulo": self.title,
                "recibido": iso_local(self.received_at),
                "recibido_por": self.received_by, "archivo": self.original_filename,
                "paginas": self.page_count, "ocr_confianza": self.ocr_confidence,
                "motivos": [{"codigo": c, "nombre": n} for c, n in self.reasons],
                "candidatos": [c.as_dict() for c in self.candidates],
                "pagina": self.best_page.as_dict() if self.best_page else None}


@dataclass(frozen=True)
class ReviewFilters:
    reason: str | None = None
    doc_type: DocumentType | None = None
    regional_code: str | None = None

    @classmethod
    def parse(cls, reason: str | None = None, doc_type: str | None = None,
              regional: str | None = None) -> "ReviewFilters":
        """From request values; blank means "any"; a wrong value is a Spanish ArchivoError."""
        reason = (reason or "").strip() or None
        if reason is not None and reason not in REVIEW_LABELS:
            raise ArchivoError(f"«{reason}» no es un motivo de revisión. Motivos: "
                               f"{', '.join(REVIEW_LABELS)}.")
        kind = None
        if (doc_type or "").strip():
            try:
                kind = DocumentType.parse(str(doc_type))
            except ValueError as exc:
                raise ArchivoError(f"Tipo de documento: {exc}") from None
        code = (regional or "").strip().upper() or None
        return cls(reason, kind, code)  # type: ignore[arg-type]


@dataclass
class ReviewPage:
    items: list[ReviewItem]
    total: int
    page: int
    per_page: int
    filters: ReviewFilters = field(default_factory=ReviewFilters)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "pagina": self.page, "por_pagina": self.per_page,
                "paginas": self.pages, "documentos": [i.as_dict() for i in self.items]}


def _filtered(session: Session, filters: ReviewFilters):  # type: ignore[no-untyped-def]
    query = select(Document).where(Document.status == DocumentStatus.REVISAR)
    if filters.reason:  # a closed vocabulary (checked in parse), so no LIKE wildcards
        padded = literal(",") + Document.review_reasons + literal(",")
        query = query.where(padded.like(f"%,{filters.reason},%"))
    if filters.doc_type is not None:
        query = query.where(Document.doc_type == filters.doc_type)
    if filters.regional_code:
        unit_id = session.scalar(select(RegionalUnit.id)
                                 .where(RegionalUnit.code == filters.regional_code))
        if unit_id is None:
            raise ArchivoError(f"No existe la unidad regional «{filters.regional_code}».")
        linked = (select(DocumentSupply.document_id)
                  .join(Supply, Supply.nis == DocumentSupply.nis)
                  .where(Supply.regional_unit_id == unit_id))
        query = query.where(Document.id.in_(linked))
    return query


def list_review(session: Session, filters: ReviewFilters | None = None, *, page: int = 1,
                per_page: int = DEFAULT_PER_PAGE) -> ReviewPage:
    """One page of the queue, oldest received first."""
    filters = filters or ReviewFilters()
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    page = max(1, page)
    query = _filtered(session, filters)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    docs = session.scalars(query.options(selectinload(Document.supplies),
                                         selectinload(Document.pages))
                           .order_by(Document.received_at, Document.id)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return ReviewPage(_items(session, docs), total, page, per_page, filters)


def review_item(session: Session, document_id: int) -> ReviewItem | None:
    """One document as the queue shows it (whatever its status)."""
    doc = session.scalar(select(Document).where(Document.id == document_id).options(
        selectinload(Document.supplies), selectinload(Document.pages)))
    return _items(session, [doc])[0] if doc is not None else None


def reason_counts(session: Session) -> list[tuple[str, str, int]]:
    """(code, label, documents) for every reason, in the labels' order, for the filter menu."""
    counts = dict.fromkeys(REVIEW_LABELS, 0)
    for (reasons,) in session.execute(select(Document.review_reasons)
                                      .where(Document.status == DocumentStatus.REVISAR)):
        for r in filter(None, (reasons or "").split(",")):
            counts[r] = counts.get(r, 0) + 1
    return [(code, REVIEW_LABELS.get(code, code), n) for code, n in counts.items()]


def _items(session: Session, docs: Sequence[Document]) -> list[ReviewItem]:
    nis = sorted({link.nis for d in docs for link in d.supplies})
    registry: dict[str, tuple[str, str | None]] = {}
    if nis:
        rows = session.execute(select(Supply.nis, Supply.holder_name, RegionalUnit.code)
                               .outerjoin(RegionalUnit, RegionalUnit.id == Supply.regional_unit_id)
                               .where(Supply.nis.in_(nis))).all()
        registry = {n: (holder, code) for n, holder, code in rows}
    out = []
    for d in docs:
        candidates = tuple(
            Candidate(l.nis, l.source.value, l.source.label, l.confidence, l.nis in registry,
                      registry.get(l.nis, ("", None))[0], registry.get(l.nis, ("", None))[1],
                      l.created_by)
            for l in sorted(d.supplies, key=lambda l: (-l.confidence, l.nis)))
        linked = [l.nis for l in sorted(d.supplies, key=lambda l: l.nis)]
        reasons = tuple(describe((d.review_reasons or "").split(","), linked,
                                 {n for n in linked if n not in registry}))
        out.append(ReviewItem(
            d.id, d.archive_number, d.doc_type.value, d.doc_type.label, d.doc_type_confidence,
            d.title, _utc(d.received_at), d.received_by, d.original_filename, d.page_count,
            d.ocr_confidence, reasons, candidates,
            best_page(d.pages, [c.nis for c in candidates])))
    return out


def nis_pattern(nis: str) -> re.Pattern[str]:
    """The NIS's digits, maybe separated by a dot, space or dash, not inside a longer number."""
    return re.compile(r"(?<!\d)" + _SEPARATORS.join(re.escape(c) for c in nis) + r"(?!\d)")


def best_page(pages: Iterable[Page], nis_list: Sequence[str]) -> PageRef | None:
    """The first page whose text shows a candidate NIS; else the first page."""
    pages = sorted(pages, key=lambda p: p.number)
    if not pages:
        return None
    patterns = [(n, nis_pattern(n)) for n in nis_list]
    chosen, matched = pages[0], ()
    for p in pages:
        found = tuple(n for n, pat in patterns if pat.search(p.text or ""))
        if found:
            chosen, matched = p, found
            break
    return PageRef(chosen.number, chosen.width, chosen.height, chosen.image_key, chosen.thumb_key,
                   chosen.words_key, matched, (chosen.text or "")[:EXCERPT_CHARS])


@dataclass(frozen=True)
class NisBox:
    """Where a candidate NIS is written on the page, in pixels of the page's web image."""

    nis: str
    left: int
    top: int
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        return {"nis": self.nis, "x": self.left, "y": self.top, "ancho": self.width,
                "alto": self.height}


def _digits(text: str) -> str:
    """A word's digits, reading OCR's usual look-alikes (O, l, S...) as digits.

    Only the part after a label mark counts ("NIS:4992383", "N°4992383"), so the
    letters of the label are not read as digits; a word without digits gives "".
    """
    tail = re.split(r"[:#°º=]", text)[-1]
    if not any(c.isdigit() for c in tail):
        return ""
    return ocr_digits(tail)


def nis_boxes(words: Sequence[Word], nis_list: Iterable[str]) -> list[NisBox]:
    """Boxes of the words that spell each NIS (one word, or up to four on the same line)."""
    wanted = set(nis_list)
    boxes: list[NisBox] = []
    for i, w in enumerate(words):
        digits = _digits(w.text)
        group = [w]
        j = i
        while digits:
            if digits in wanted:
                boxes.append(_union(digits, group))
                break
            if len(group) >= MAX_WORDS_PER_NIS or not any(n.startswith(digits) for n in wanted):
                break
            j += 1
            if j >= len(words) or words[j].line != w.line:
                break
            more = _digits(words[j].text)
            if not more:
                break
            digits += more
            group.append(words[j])
    return boxes


def _union(nis: str, group: list[Word]) -> NisBox:
    left = min(w.left for w in group)
    top = min(w.top for w in group)
    right = max(w.left + w.width for w in group)
    bottom = max(w.top + w.height for w in group)
    return NisBox(nis, left, top, right - left, bottom - top)
