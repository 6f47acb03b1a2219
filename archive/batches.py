"""Scanned batches: one uploaded stack split at separator sheets into several documents.

The upload itself stays a :class:`~archive.models.Document` (its original is
the whole stack, byte for byte; sending the same bytes again finds it), with
no pages of its own. A :class:`Batch` row hangs from it and one
:class:`BatchPart` per cut remembers which pages of the stack each child
document took and what its separator said, so the split can be audited and
corrected. See docs/ingesta.md, «Lotes con hojas separadoras».
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import (JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, delete, false,
                        select)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import audit
from .enums import DocumentStatus, DocumentType
from .errors import ArchivoError
from .models import Base, Blob, Document, Page, _enum, utcnow
from .nis import normalize_nis
from .signals import mark_document_changed

LEADING_SEQ = 0  # the part holding pages found before the first separator


class Batch(Base):
    """A stack scanned as one file; ``document_id`` is the upload («lote»)."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    source_blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"))
    page_count: Mapped[int] = mapped_column(Integer)  # pages in the file, separators included
    separator_pages: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    source: Mapped[Blob] = relationship(foreign_keys=[source_blob_id])
    parts: Mapped[list["BatchPart"]] = relationship(
        back_populates="batch", order_by="BatchPart.seq", cascade="all, delete-orphan")


class BatchPart(Base):
    """One cut of a batch: the pages of the stack a child document was built from.

    ``seq`` is 1.. for the separators in file order and 0 for pages found
    before the first separator. ``document_id`` is empty when a separator was
    followed directly by another one (nothing to archive). ``pages`` are page
    numbers of the stack (1-based); separator pages belong to no part.
    """

    __tablename__ = "batch_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    separator_page: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(String(200), default="")  # the QR text, as read
    nis: Mapped[str | None] = mapped_column(String(12))
    doc_type: Mapped[DocumentType | None] = mapped_column(_enum(DocumentType, "document_type"))
    problem: Mapped[str | None] = mapped_column(String(200))  # why the separator is not trusted
    pages: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Set by a correction: the part's original must be rebuilt from the stack (ingest does it).
    rebuild_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    batch: Mapped[Batch] = relationship(back_populates="parts")
    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])

    __table_args__ = (UniqueConstraint("batch_id", "seq", name="uq_batch_documents_batch_seq"),)



# --- corrections ------------------------------------------------------------------------
#
# A person fixes a split by editing the *plan* (which pages of the stack each part
# holds); the bytes follow: the changed parts are flagged ``rebuild_due`` and the
# upload goes back to ``recibido``, so the pipeline rebuilds those parts' originals
# from the stack and processes them again (``ingest.split``). Nothing is deleted: a
# part left without pages keeps its document, which ends in ``error`` (``vaciado``)
# with a message saying where its pages went. Every correction is audited on the
# upload («lote») document.

EMPTIED = "vaciado"  # error code of a document whose pages were all moved elsewhere
# Being worked on right now. Waiting (``recibido``) is fine: several corrections may
# pile up before the worker runs, and a correction that races a worker's claim takes
# the lease away from it (the run then commits nothing and the next one sees the plan).
_BUSY = frozenset({DocumentStatus.PROCESANDO})


class BatchEditRefused(ArchivoError):
    """The correction is not possible as asked; the message says why, in Spanish."""


def part_documents(session: Session, upload_ids: Iterable[int]) -> dict[int, list[int]]:
    """Upload id -> ids of the documents it was split into (uploads not split are absent)."""
    rows = session.execute(select(Batch.document_id, BatchPart.document_id)
                           .join(BatchPart, BatchPart.batch_id == Batch.id)
                           .where(Batch.document_id.in_(list(upload_ids)),
                                  BatchPart.document_id.is_not(None))
                           .order_by(Batch.document_id, BatchPart.seq))
    out: dict[int, list[int]] = {}
    for upload, child in rows:
        out.setdefault(upload, []).append(child)
    return out


def batch_of(session: Session, upload_document_id: int) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.document_id == upload_document_id))
    if batch is None:
        raise BatchEditRefused("El documento no es un lote escaneado con hojas separadoras.")
    return batch


def _part(batch: Batch, seq: int) -> BatchPart:
    for part in batch.parts:
        if part.seq == seq:
            return part
    raise BatchEditRefused(f"El lote {batch.document.archive_number} no tiene la parte {seq}.")


def _require_idle(session: Session, batch: Batch, parts: Iterable[BatchPart]) -> None:
    if batch.document.status in _BUSY:
        raise BatchEditRefused(f"El lote {batch.document.archive_number} se está procesando; "
                               "espere a que termine para corregirlo.")
    for part in parts:
        doc = session.get(Document, part.document_id) if part.document_id else None
        if doc is not None and doc.status in _BUSY:
            raise BatchEditRefused(f"El documento {doc.archive_number} (parte {part.seq}) se "
                                   "está procesando; espere a que termine para corregir el lote.")


def _changed(session: Session, batch: Batch, parts: Iterable[BatchPart], actor: str) -> None:
    """Flag the parts for rebuilding, empty documents out, and hand the upload back to ingest."""
    for part in parts:
        part.rebuild_due = True
        doc = session.get(Document, part.document_id) if part.document_id else None
        if not part.pages and doc is not None:
            empty_out(session, batch, doc, actor)
    upload = batch.document
    upload.status = DocumentStatus.RECIBIDO
    upload.claim_token = None
    upload.claimed_at = None
    upload.attempts = 0


def empty_out(session: Session, batch: Batch, doc: Document, actor: str) -> None:
    """A part's document lost all its pages: it ends in ``error`` (``vaciado``), kept."""
    if doc.error_code == EMPTIED:
        return
    session.execute(delete(Page).where(Page.document_id == doc.id))
    doc.page_count = 0
    doc.status = DocumentStatus.ERROR
    doc.error_code = EMPTIED
    doc.error_message = (f"Todas sus páginas se pasaron a otras partes del lote "
                         f"{batch.document.archive_number} (corrección de {actor}). El original "
                         "anterior queda guardado.")
    mark_document_changed(doc)
    audit.record(session, actor, "documento.vaciar", "documento", doc.archive_number,
                 {"lote": batch.document.archive_number})


def move_pages(session: Session, batch: Batch, pages: Iterable[int], to_seq: int, *,
               actor: str) -> list[int]:
    """Move stack pages (1-based numbers of the scanned file) into part ``to_seq``.

    Returns the parts changed. Pages keep the order they had in the stack.
    """
    wanted = sorted(set(int(p) for p in pages))
    if not wanted:
        raise BatchEditRefused("Indique al menos una página para mover.")
    target = _part(batch, to_seq)
    owner = {n: part for part in batch.parts for n in part.pages}
    missing = [n for n in wanted if n not in owner]
    if missing:
        seps = set(batch.separator_pages)
        what = ("son hojas separadoras" if set(missing) <= seps
                else "no son páginas de documento de este lote")
        raise BatchEditRefused(f"Las páginas {', '.join(map(str, missing))} {what}.")
    sources = {owner[n].seq: owner[n] for n in wanted if owner[n].seq != to_seq}
    if not sources:
        raise BatchEditRefused(f"Esas páginas ya están en la parte {to_seq}.")
    _require_idle(session, batch, [target, *sources.values()])
    moved_from: dict[str, list[int]] = {}
    for part in sources.values():
        taken = [n for n in part.pages if n in wanted]
        part.pages = [n for n in part.pages if n not in wanted]
        moved_from[str(part.seq)] = taken
    target.pages = sorted(set(target.pages) | set(wanted))
    _changed(session, batch, [target, *sources.values()], actor)
    audit.record(session, actor, "lote.mover_paginas", "documento", batch.document.archive_number,
                 {"hojas": wanted, "desde": moved_from, "hacia": to_seq})
    session.flush()
    return sorted({to_seq, *sources})


def merge(session: Session, batch: Batch, from_seq: int, into_seq: int, *, actor: str) -> None:
    """Put every page of part ``from_seq`` into part ``into_seq`` (one folder, two sheets)."""
    if from_seq == into_seq:
        raise BatchEditRefused("Elija dos partes distintas para unir.")
    source = _part(batch, from_seq)
    if not source.pages:
        raise BatchEditRefused(f"La parte {from_seq} no tiene páginas.")
    move_pages(session, batch, source.pages, into_seq, actor=actor)
    audit.record(session, actor, "lote.unir", "documento", batch.document.archive_number,
                 {"parte": from_seq, "en": into_seq})


def split_part(session: Session, batch: Batch, seq: int, first_page: int, *, actor: str,
               nis: str | None = None, doc_type: DocumentType | None = None) -> int:
    """Cut part ``seq`` before stack page ``first_page``; the rest becomes a new part.

    The new part gets the NIS and type a person gives (a missing separator
    sheet); its document is created when the pipeline rebuilds the batch.
    Returns the new part's number.
    """
    part = _part(batch, seq)
    if first_page not in part.pages or first_page == part.pages[0]:
        raise BatchEditRefused(f"La página {first_page} no está dentro de la parte {seq} "
                               "(debe ser una de sus páginas, no la primera).")
    clean = normalize_nis(nis) if nis else None
    _require_idle(session, batch, [part])
    new_seq = max(p.seq for p in batch.parts) + 1
    rest = [n for n in part.pages if n >= first_page]
    part.pages = [n for n in part.pages if n < first_page]
    new = BatchPart(batch_id=batch.id, seq=new_seq, document_id=None, separator_page=None,
                    payload="", nis=clean, doc_type=doc_type, problem=None, pages=rest)
    session.add(new)
    batch.parts.append(new)
    _changed(session, batch, [part, new], actor)
    audit.record(session, actor, "lote.dividir_parte", "documento", batch.document.archive_number,
                 {"parte": seq, "desde_hoja": first_page, "nueva_parte": new_seq, "hojas": rest,
                  "nis": clean, "tipo": doc_type.value if doc_type else None})
    session.flush()
    return new_seq


__all__ = ["Batch", "BatchPart", "LEADING_SEQ", "BatchEditRefused", "EMPTIED", "batch_of",
           "move_pages", "merge", "split_part", "empty_out"]
