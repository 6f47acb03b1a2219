"""Split a scanned stack at its separator sheets into one document per folder.

``ingest.process`` looks for separator sheets on every page while it reads a
file (``ingest.separators.detect_separator``). When it finds one, the upload
becomes a *batch* («lote»):

1. ``plan`` cuts the page list at the separator pages (which belong to no
   part); pages before the first separator form part 0.
2. ``build`` writes each part as a new original, from the stored upload,
   at full resolution: a PDF stack gives PDF parts (pages copied with pdfium,
   nothing re-encoded), a TIFF stack gives multi-page TIFF parts (lossless:
   Group 4 for black-and-white pages, Deflate otherwise). Parts are stored
   content-addressed like any upload, with deterministic bytes, so a retried
   run writes the same objects again.
3. ``finish`` records everything in **one** transaction, only while the
   upload's processing lease is still ours: the ``batches`` row, one
   ``batch_documents`` row per part, and one child document per part in
   ``recibido`` with its separator's NIS (origin ``codigo``, confidence 1)
   and type. The upload itself ends ``listo`` without pages. ``finish``
   returns the children; the queue's owner (``ingest.tasks``) sends them to be
   processed (OCR, identifiers, status) like any other upload.

A run killed anywhere before that commit leaves no rows (at worst stored part
files that the retry overwrites with the same bytes); after it, a second run
finds the batch and changes nothing. See docs/ingesta.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from PIL import Image
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive import audit
from archive.batches import LEADING_SEQ, Batch, BatchPart
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import Blob, Document, DocumentIdentifier, DocumentSupply, Page, utcnow
from archive.sequences import archive_number
from archive.services import Services
from archive.signals import DocumentsChanged, mark_document_changed
from archive.storage import StoredObject

from . import claims
from .errors import RejectedInput
from .limits import Limits
from .processed import SKIPPED, Processed
from .pages import _PDFIUM_LOCK, iter_pages
from .separators import Separator
from .sniff import FileKind

SEPARATOR_ACTOR = "separador"  # created_by of the links a separator sheet makes
REASON_NO_SEPARATOR = "sin_separador"  # review reason of part 0 (pages before any separator)
REASON_BAD_SEPARATOR = "separador_invalido"  # review reason of a part whose sheet is unreadable


@dataclass
class Cut:
    """One part of the stack: its separator (None for part 0) and its page numbers."""

    seq: int
    separator_page: int | None
    separator: Separator | None
    pages: list[int]
    by_hand: bool = False  # a part a person cut (no separator sheet): its NIS link is manual


@dataclass
class BuiltPart:
    cut: Cut
    stored: StoredObject | None  # None: the part has no pages
    media_type: str
    extension: str


@dataclass
class Split:
    """What the page pass found and built: handed to :func:`finish`."""

    total_pages: int
    separator_pages: list[int]
    parts: list[BuiltPart]


def plan(total: int, separators: dict[int, Separator]) -> list[Cut]:
    """Cut pages 1..total at the separator pages; part 0 only if pages precede the first one."""
    cuts: list[Cut] = []
    current = Cut(LEADING_SEQ, None, None, [])
    for number in range(1, total + 1):
        sep = separators.get(number)
        if sep is None:
            current.pages.append(number)
            continue
        if current.seq != LEADING_SEQ or current.pages:
            cuts.append(current)
        current = Cut(current.seq + 1, number, sep, [])
    if current.seq != LEADING_SEQ or current.pages:
        cuts.append(current)
    return cuts


# --- building the parts' originals -------------------------------------------------------


def build(services: Services, path: Path, kind: FileKind, limits: Limits, source_sha: str,
          separators: dict[int, Separator], total: int, touch: Callable[[], None]) -> Split:
    """Write and store every part's original; nothing is recorded in the database here."""
    cuts = plan(total, separators)
    if not any(c.pages for c in cuts):
        raise RejectedInput(
            "solo_separadores",
            f"El archivo solo contiene hojas separadoras ({len(separators)}) y ninguna página "
            "de documento. Verifique que las carpetas se hayan escaneado detrás de cada hoja.")
    return Split(total, sorted(separators),
                 build_cuts(services, path, kind, limits, source_sha, cuts, touch))


def build_cuts(services: Services, path: Path, kind: FileKind, limits: Limits, source_sha: str,
               cuts: list[Cut], touch: Callable[[], None]) -> list[BuiltPart]:
    """Store one original per cut (none for a cut without pages)."""
    if kind.kind == "pdf":
        return _build_pdf_parts(services, path, cuts, source_sha, touch)
    if kind.kind == "tiff":
        return _build_tiff_parts(services, path, kind, limits, cuts, touch)
    # a single-page JPEG or PNG that is itself a separator: caught by ``build``
    raise RejectedInput("solo_separadores", "El archivo es solo una hoja separadora.")


def due_cuts(session: Session, document_id: int) -> list[Cut]:
    """Parts of this upload's batch that a correction changed and that still have pages."""
    batch = existing_batch(session, document_id)
    if batch is None:
        return []
    return [Cut(p.seq, p.separator_page,
                Separator(p.nis, p.doc_type, p.payload, p.problem), list(p.pages),
                by_hand=p.separator_page is None and p.seq != LEADING_SEQ)
            for p in batch.parts if p.rebuild_due and p.pages]


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate)\s*\(D:(\d{14})")
_PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")


_PDF_WINDOW = 65536  # pdfium writes the info dictionary near the start, the /ID at the end


def _steady_pdf(fh: BinaryIO, seed: str) -> None:
    """pdfium stamps the save time and a random /ID: overwrite both in place, same length.

    Same source and pages, same bytes: a retried split stores the same
    objects instead of leaving orphans. Lengths are unchanged, so the
    cross-reference offsets stay valid. Only the head and the tail of the
    file are read, however large the part is.
    """
    digest = hashlib.sha256(seed.encode()).hexdigest().upper().encode()

    def fixed_id(m: re.Match[bytes]) -> bytes:
        a, b = m.group(1), m.group(2)
        return m.group(0).replace(a, digest[: len(a)]).replace(b, digest[: len(b)])

    def fixed_date(m: re.Match[bytes]) -> bytes:
        return m.group(0)[:-14] + b"20000101000000"

    size = fh.seek(0, os.SEEK_END)
    for start in (0, max(0, size - _PDF_WINDOW)):
        fh.seek(start)
        window = fh.read(_PDF_WINDOW)
        patched = _PDF_ID.sub(fixed_id, _PDF_DATE.sub(fixed_date, window))
        if patched != window:
            fh.seek(start)
            fh.write(patched)
    fh.seek(0)


def _build_pdf_parts(services: Services, path: Path, cuts: list[Cut], source_sha: str,
                     touch: Callable[[], None]) -> list[BuiltPart]:
    import pypdfium2 as pdfium

    parts: list[BuiltPart] = []
    with _PDFIUM_LOCK:
        source = pdfium.PdfDocument(os.fspath(path))
    try:
        for cut in cuts:
            touch()
            if not cut.pages:
                parts.append(BuiltPart(cut, None, "application/pdf", "pdf"))
                continue
            with tempfile.TemporaryFile(dir=path.parent) as tmp:
                with _PDFIUM_LOCK:
                    new = pdfium.PdfDocument.new()
                    try:
                        new.import_pages(source, [n - 1 for n in cut.pages])
                        new.save(tmp)
                    finally:
                        new.close()
                _steady_pdf(tmp, f"{source_sha}:{cut.pages}")
                stored = services.store.put_original(tmp, media_type="application/pdf")
            parts.append(BuiltPart(cut, stored, "application/pdf", "pdf"))
    finally:
        with _PDFIUM_LOCK:
            source.close()
    return parts


def _append_frame(target: Path, image: Image.Image, dpi: int, *, first: bool) -> None:
    """Append one page to a multi-page TIFF on disk, losslessly, without holding earlier pages."""
    if image.mode == "L":
        colors = image.getcolors(2)
        if colors is not None and {c for _, c in colors} <= {0, 255}:
            image = image.convert("1")  # a black-and-white scan: back to Group 4
    compression = "group4" if image.mode == "1" else "tiff_deflate"
    # Pillow appends to an existing TIFF (``append=True``) only for images that look
    # multi-frame; a decoded page is a single frame, so say so.
    image.n_frames = 1  # type: ignore[attr-defined]
    image.save(target, format="TIFF", save_all=True, append=not first, compression=compression,
               dpi=(dpi, dpi))


def _build_tiff_parts(services: Services, path: Path, kind: FileKind, limits: Limits,
                      cuts: list[Cut], touch: Callable[[], None]) -> list[BuiltPart]:
    owner = {n: cut.seq for cut in cuts for n in cut.pages}
    remaining = {cut.seq: len(cut.pages) for cut in cuts}
    started: set[int] = set()
    stored: dict[int, StoredObject] = {}
    workdir = path.parent
    for page in iter_pages(path, kind, limits):  # pages decoded one at a time
        touch()
        seq = owner.get(page.number)
        if seq is None:  # a separator sheet
            page.image.close()
            continue
        target = workdir / f"parte-{seq:04d}.tif"
        _append_frame(target, page.image, page.dpi, first=seq not in started)
        started.add(seq)
        page.image.close()
        remaining[seq] -= 1
        if remaining[seq] == 0:  # part complete: store it and free the disk
            with target.open("rb") as fh:
                stored[seq] = services.store.put_original(
                    fh, media_type="image/tiff")  # type: ignore[arg-type]
            target.unlink()
    return [BuiltPart(cut, stored.get(cut.seq), "image/tiff", "tif") for cut in cuts]


# --- recording the split -----------------------------------------------------------------


def existing_batch(session: Session, document_id: int) -> Batch | None:
    return session.scalar(select(Batch).where(Batch.document_id == document_id))


def part_of(session: Session, document_id: int) -> BatchPart | None:
    """The batch part a document was built from, if it came out of a split."""
    return session.scalar(select(BatchPart).where(BatchPart.document_id == document_id)
                          .order_by(BatchPart.id).limit(1))


def finish(services: Services, document_id: int, token: str, split: Split | None,
           rebuilt: list[BuiltPart] | None = None) -> Processed:
    """Record the split (or, with ``split=None``, re-finish an upload split before,
    applying the parts a correction had ``rebuilt``).

    The children it made or reopened are returned as waiting, not queued: the
    queue's owner (``ingest.tasks``) sends them to the workers.
    """
    children: list[int] = []
    with session_scope(services.sessions) as session:
        doc = claims.still_owned(session, document_id, token)
        if doc is None:
            return Processed(SKIPPED)
        batch = existing_batch(session, document_id)
        if batch is None:
            if split is None:  # cannot happen: the caller saw a batch
                raise RejectedInput("interno", "El lote desapareció mientras se procesaba.")
            batch, children = _record(session, doc, split)
            _finish_upload(session, doc, batch, list(batch.parts))
        else:  # processed again: the parts stand, or as a person corrected them
            children = _apply_rebuilt(session, doc, batch, rebuilt or [])
            _finish_upload(session, doc, batch, list(batch.parts))
            audit.record(session, "sistema", "documento.procesar", "documento",
                         doc.archive_number, {"estado": doc.status.value, "paginas": 0,
                                              "lote": "ya dividido: se conservan sus partes",
                                              "reconstruidas": [b.cut.seq for b in rebuilt or []]})
        status = doc.status.value
    services.signals.send(DocumentsChanged((document_id,)))
    return Processed(status, tuple(children))


def _record(session: Session, doc: Document, split: Split) -> tuple[Batch, list[int]]:
    batch = Batch(document_id=doc.id, source_blob_id=doc.original_blob_id,
                  page_count=split.total_pages, separator_pages=split.separator_pages,
                  created_by="sistema")
    session.add(batch)
    session.flush()
    created: list[int] = []
    real_parts = sum(1 for p in split.parts if p.cut.seq != LEADING_SEQ)
    summary: list[dict[str, object]] = []
    for part in split.parts:
        cut, sep = part.cut, part.cut.separator
        child: Document | None = None
        if part.stored is not None:
            child, new = _child_document(session, doc, part, real_parts)
            if new:
                created.append(child.id)
        session.add(BatchPart(
            batch_id=batch.id, seq=cut.seq, document_id=child.id if child else None,
            separator_page=cut.separator_page, payload=(sep.payload if sep else "")[:200],
            nis=sep.nis if sep else None, doc_type=sep.doc_type if sep else None,
            problem=sep.problem[:200] if sep and sep.problem else None,
            pages=list(cut.pages)))
        summary.append({"parte": cut.seq, "documento": child.archive_number if child else None,
                        "separador_hoja": cut.separator_page, "nis": sep.nis if sep else None,
                        "tipo": sep.doc_type.value if sep and sep.doc_type else None,
                        "hojas": list(cut.pages),
                        **({"problema": sep.problem} if sep and sep.problem else {})})
    session.flush()
    audit.record(session, "sistema", "documento.dividir", "documento", doc.archive_number,
                 {"paginas": split.total_pages, "separadores": split.separator_pages,
                  "partes": summary})
    return batch, created


def _apply_rebuilt(session: Session, upload: Document, batch: Batch,
                   rebuilt: list[BuiltPart]) -> list[int]:
    """Give corrected parts their new originals; returns the documents to process again.

    Documents follow their content: a part whose new bytes are already some
    document's original takes that document (two parts that swapped pages swap
    documents); otherwise its document gets the new original, or a new
    document is made when the part has none (or its old one went elsewhere).
    A document no part holds any more is emptied out (``vaciado``), not deleted.
    """
    from archive.batches import empty_out

    by_seq = {p.seq: p for p in batch.parts}
    real_parts = sum(1 for p in batch.parts if p.seq != LEADING_SEQ)
    before_ids = {p.document_id for p in batch.parts if p.document_id}
    plans: list[tuple[BuiltPart, BatchPart, Blob, Document | None]] = []
    for built in rebuilt:
        stored = built.stored
        assert stored is not None
        blob = session.scalar(select(Blob).where(Blob.storage_key == stored.key))
        if blob is None:
            blob = Blob(sha256=stored.sha256, size=stored.size, media_type=built.media_type,
                        storage_key=stored.key)
            session.add(blob)
            session.flush()
        holder = session.scalar(select(Document).where(Document.original_blob_id == blob.id))
        plans.append((built, by_seq[built.cut.seq], blob, holder))
    wake: list[int] = []
    taken: set[int] = set()
    for built, part, blob, holder in plans:  # content that already has its document
        if holder is not None:
            part.document_id = holder.id
            session.execute(delete(DocumentSupply).where(
                DocumentSupply.document_id == holder.id,
                DocumentSupply.source == LinkSource.CODIGO,
                DocumentSupply.nis != (part.nis or "")))
            session.refresh(holder, ["supplies"])
            _reopen(session, holder, upload, part, built, holder.original.sha256)
            taken.add(holder.id)
            wake.append(holder.id)
    for built, part, blob, holder in plans:  # new content
        if holder is not None:
            continue
        current = session.get(Document, part.document_id) if part.document_id else None
        if current is None or current.id in taken:
            child, _ = _child_document(session, upload, built, real_parts)
            part.document_id = child.id
        else:
            before = current.original.sha256
            current.original_blob_id = blob.id
            session.flush()
            session.refresh(current, ["original"])
            _reopen(session, current, upload, part, built, before)
            child = current
        taken.add(child.id)
        wake.append(child.id)
    for part in batch.parts:
        part.rebuild_due = False
    left = before_ids - {p.document_id for p in batch.parts if p.document_id}
    for doc_id in sorted(left):  # its pages all went to documents of other parts
        empty_out(session, batch, session.get(Document, doc_id), "sistema")  # type: ignore[arg-type]
    session.flush()
    return wake


def _reopen(session: Session, doc: Document, upload: Document, part: BatchPart, built: BuiltPart,
            before_sha: str) -> None:
    """Send a document of a corrected part back to the pipeline, audited."""
    doc.status = DocumentStatus.RECIBIDO
    doc.error_code = doc.error_message = None
    doc.claim_token = None
    doc.claimed_at = None
    doc.attempts = 0
    _ensure_link(session, doc, built.cut)
    audit.record(session, "sistema", "documento.reconstruir", "documento", doc.archive_number,
                 {"lote": upload.archive_number, "parte": part.seq, "hojas": list(part.pages),
                  "sha256_anterior": before_sha, "sha256": doc.original.sha256})


def _ensure_link(session: Session, doc: Document, cut: Cut) -> None:
    sep = cut.separator
    nis = sep.nis if sep is not None and sep.valid else None
    if nis and nis not in {l.nis for l in doc.supplies}:
        source, by = ((LinkSource.MANUAL, "corrección de lote") if cut.by_hand
                      else (LinkSource.CODIGO, SEPARATOR_ACTOR))
        session.add(DocumentSupply(document_id=doc.id, nis=nis, source=source, confidence=1.0,
                                   created_by=by))
        session.flush()


def _child_document(session: Session, parent: Document, part: BuiltPart,
                    real_parts: int) -> tuple[Document, bool]:
    """The document for one part: new, or the one that already has these exact bytes."""
    stored, cut, sep = part.stored, part.cut, part.cut.separator
    assert stored is not None
    nis = sep.nis if sep is not None and sep.valid else None
    blob = session.scalar(select(Blob).where(Blob.storage_key == stored.key))
    if blob is None:
        blob = Blob(sha256=stored.sha256, size=stored.size, media_type=part.media_type,
                    storage_key=stored.key)
        session.add(blob)
        session.flush()
    else:
        found = session.scalar(select(Document).where(Document.original_blob_id == blob.id))
        if found is not None:  # same bytes, same document (as on a re-upload)
            if nis and nis not in found.nis_list:
                _ensure_link(session, found, cut)
                mark_document_changed(found)
            return found, False
    if sep is not None and sep.doc_type is not None:
        doc_type, fixed = sep.doc_type, True
    elif parent.doc_type_fixed:  # the archivist gave the whole stack a type
        doc_type, fixed = parent.doc_type, True
    else:
        doc_type, fixed = DocumentType.OTRO, False
    stem = Path(parent.original_filename or "lote").stem[:240] or "lote"
    child = Document(
        archive_number=archive_number(session), original_blob_id=blob.id,
        original_filename=f"{stem}_parte{cut.seq:02d}.{part.extension}",
        received_by=parent.received_by, received_at=parent.received_at,
        status=DocumentStatus.RECIBIDO, doc_type=doc_type, doc_type_fixed=fixed)
    session.add(child)
    session.flush()
    _ensure_link(session, child, cut)
    where = (f"parte {cut.seq} de {real_parts}" if cut.seq != LEADING_SEQ
             else "hojas anteriores al primer separador")
    audit.record(session, "sistema", "documento.recibir", "documento", child.archive_number,
                 {"archivo": child.original_filename, "sha256": stored.sha256, "bytes": stored.size,
                  "tipo": doc_type.value, "nis": [nis] if nis else [],
                  "lote": parent.archive_number, "parte": where, "hojas": list(cut.pages)})
    return child, True


def _finish_upload(session: Session, doc: Document, batch: Batch, parts: list[BatchPart]) -> None:
    """The upload («lote») keeps its original and no pages; its children carry the content."""
    session.execute(delete(Page).where(Page.document_id == doc.id))
    session.execute(delete(DocumentSupply).where(DocumentSupply.document_id == doc.id,
                                                 DocumentSupply.source == LinkSource.OCR))
    session.execute(delete(DocumentIdentifier).where(DocumentIdentifier.document_id == doc.id))
    made = sum(1 for p in parts if p.document_id is not None)
    doc.page_count = 0
    doc.pdf_blob_id = None
    doc.ocr_confidence = None
    doc.review_reasons = ""
    doc.status = DocumentStatus.LISTO
    doc.title = (f"Lote escaneado: {made} documento{'s' if made != 1 else ''} "
                 f"({len(batch.separator_pages)} hojas separadoras)")
    doc.processed_at = utcnow()
    mark_document_changed(doc)  # pages it had before (if reprocessed) leave the index
    doc.claim_token = None
    doc.claimed_at = None
    doc.error_code = doc.error_message = None


__all__ = ["Cut", "BuiltPart", "Split", "plan", "build", "build_cuts", "due_cuts", "finish",
           "existing_batch", "part_of", "REASON_NO_SEPARATOR", "REASON_BAD_SEPARATOR"]
