"""Step 3-4 of ingest: identifiers, links and the final status, as pure decisions.

``decide_outcome`` reads (registry, manual links) and computes; it writes
nothing. ``apply_outcome`` writes the decision inside the finishing
transaction. Rules (see docs/ingest.md):

* ``listo``: there is text and at least one supply link with good confidence;
* ``revisar``: no NIS, an NIS not in the supply registry, low OCR confidence,
  or pages of a scanned batch without a trustworthy separator sheet (the
  reasons are kept in ``review_reasons``).

An empty supply registry (not imported yet) cannot tell known from unknown
numbers, so it is not used to send every document to review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.batches import LEADING_SEQ, BatchPart
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import Document, DocumentIdentifier, DocumentSupply, Supply
from archive.review_reasons import link_reasons
from archive.services import Services
from archive.signals import mark_document_changed

from .classify import classify
from .extract import extract_all
from .page_result import PageResult
from .split import REASON_BAD_SEPARATOR, REASON_NO_SEPARATOR

MIN_LINK = 0.50  # weaker candidates are not linked at all
LOW_OCR_CONFIDENCE = 60.0  # mean word confidence (0..100) under which a person should look
UNKNOWN_NIS_FACTOR = 0.6  # an NIS absent from the registry is probably misread


@dataclass
class Outcome:
    links: dict[str, float] = field(default_factory=dict)  # nis -> confidence (OCR links)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    doc_type: DocumentType = DocumentType.OTRO
    doc_type_confidence: float = 0.0
    document_date: dt.date | None = None
    expediente: str | None = None
    ot_number: str | None = None
    ocr_confidence: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def status(self) -> DocumentStatus:
        return DocumentStatus.REVISAR if self.reasons else DocumentStatus.LISTO


def mean_confidence(results: Sequence[PageResult]) -> float | None:
    confs = [r.confidence for r in results if r.confidence is not None]
    return round(sum(confs) / len(confs), 1) if confs else None


def decide_outcome(services: Services, document_id: int, results: Sequence[PageResult]) -> Outcome:
    text = "\f".join(r.text for r in results)  # form feed: the classifier knows page 1
    found = extract_all(text)
    with session_scope(services.sessions) as session:
        manual = {l.nis: (l.source, l.confidence) for l in session.scalars(
            select(DocumentSupply).where(DocumentSupply.document_id == document_id,
                                         DocumentSupply.source != LinkSource.OCR))}
        candidates = {c.value: c.confidence for c in found.nis}
        registry_used = session.scalar(select(Supply.nis).limit(1)) is not None
        known = set(session.scalars(select(Supply.nis).where(Supply.nis.in_(list(candidates))))) \
            if candidates else set()
        part = session.scalar(select(BatchPart).where(BatchPart.document_id == document_id)
                              .order_by(BatchPart.id).limit(1))
        batch_reason = None
        if part is not None and part.seq == LEADING_SEQ:
            batch_reason = REASON_NO_SEPARATOR  # scanned before the first separator sheet
        elif part is not None and part.problem:
            batch_reason = REASON_BAD_SEPARATOR  # its separator sheet could not be trusted
    out = Outcome(ocr_confidence=mean_confidence(results))
    for nis, conf in candidates.items():
        if nis in manual or conf < MIN_LINK:
            continue
        if registry_used and nis not in known:  # linked, but weakly, and a person checks it
            conf *= UNKNOWN_NIS_FACTOR
        out.links[nis] = round(conf, 3)
    cls = classify(text)
    out.doc_type = DocumentType(cls.doc_type)
    out.doc_type_confidence = round(cls.confidence, 3)
    out.document_date = found.document_date
    out.expediente = found.expedientes[0].value if found.expedientes else None
    out.ot_number = found.ots[0].value if found.ots else None
    for kind, items in (("cedula", found.cedulas), ("ruc", found.rucs),
                        ("expediente", found.expedientes), ("ot", found.ots)):
        out.identifiers.update((kind, item.value) for item in items)
    if not text.strip():
        out.reasons.append("sin_texto")
    links = {n: (LinkSource.OCR, c) for n, c in out.links.items()} | manual
    out.reasons += link_reasons(links, known, registry_used)
    if out.ocr_confidence is not None and out.ocr_confidence < LOW_OCR_CONFIDENCE:
        out.reasons.append("ocr_baja_confianza")
    if batch_reason:
        out.reasons.append(batch_reason)
    return out


def apply_outcome(session: Session, doc: Document, out: Outcome) -> None:
    """Write the decision; manual and code links are never replaced by OCR."""
    session.execute(delete(DocumentSupply).where(DocumentSupply.document_id == doc.id,
                                                 DocumentSupply.source == LinkSource.OCR))
    session.execute(delete(DocumentIdentifier).where(DocumentIdentifier.document_id == doc.id))
    session.flush()
    kept = set(session.scalars(select(DocumentSupply.nis).where(DocumentSupply.document_id == doc.id)))
    for nis, conf in sorted(out.links.items()):
        if nis not in kept:
            session.add(DocumentSupply(document_id=doc.id, nis=nis, source=LinkSource.OCR,
                                       confidence=conf, created_by="ocr"))
    for kind, value in sorted(out.identifiers):
        session.add(DocumentIdentifier(document_id=doc.id, kind=kind, value=value[:40]))
    if not doc.doc_type_fixed:
        doc.doc_type = out.doc_type
        doc.doc_type_confidence = out.doc_type_confidence
    doc.document_date = out.document_date
    doc.expediente = out.expediente
    doc.ot_number = out.ot_number
    doc.ocr_confidence = out.ocr_confidence
    doc.review_reasons = ",".join(out.reasons)
    doc.status = out.status
    doc.processed_at = dt.datetime.now(dt.timezone.utc)
    mark_document_changed(doc)
    session.flush()
    session.refresh(doc, ["supplies"])
    nis = doc.nis_list
    doc.title = f"{doc.doc_type.label}" + (f" · NIS {', '.join(nis[:3])}" if nis else "")
