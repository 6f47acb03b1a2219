"""The batch page («lote»): a scanned stack split at its separator sheets, and its corrections.

Shows every page of the stack grouped by the part (folder) it went to, each
part opened by its separator sheet as a divider, with the part's document.
The stack's own page images are gone after the split (the upload keeps its
original and no pages), so page thumbnails come from the part's document:
page *i* of that document is stack page ``part.pages[i-1]`` once the worker
has rebuilt and processed the part; until then the page is listed by its
stack number without a picture.

Corrections go through ``archive.batches`` (move pages, merge, split a part;
audited there). The domain marks the parts for rebuilding and hands the
upload back to the pipeline in ``recibido``; after the commit this module
sends the worker its wake-up message for the upload (the sweeper re-queues it
if that message is lost) and wakes the indexer (an emptied document leaves
the index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from werkzeug.wrappers import Response

from archive.batches import (LEADING_SEQ, Batch, BatchEditRefused, BatchPart, merge, move_pages,
                             split_part)
from archive.db import read_scope, session_scope
from archive.enums import DocumentStatus, DocumentType, Role
from archive.errors import ArchivoError
from archive.models import Document, Page
from archive.queue import wake
from archive.review_reasons import describe, describe_stored
from archive.services import Services
from ingest import enqueue_processing

from . import services_of
from .edits import confirm_nis_page, nis_to_confirm, wake_indexer
from .security import current_user, requires
from .supplies import endpoint_url


bp = Blueprint("batches", __name__)

VIEWERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)  # the same people who see documents
EDITORS = (Role.ARCHIVISTA,)  # admin passes every check
_UNSETTLED = frozenset({DocumentStatus.RECIBIDO, DocumentStatus.PROCESANDO})


# --------------------------------------------------------------------------- view model


@dataclass
class StackPage:
    """One content page of the stack, with its picture when the part's document has it."""

    number: int  # page of the scanned file, 1-based
    thumb_url: str | None = None
    image_url: str | None = None


@dataclass
class PartDocument:
    id: int
    archive_number: str
    status: str
    status_label: str
    doc_type_label: str
    nis: list[str]
    reasons: list[str]
    error: str | None
    url: str | None


@dataclass
class PartView:
    seq: int
    separator_page: int | None
    payload: str
    nis: str | None
    doc_type_label: str | None
    problem: str | None
    rebuild_due: bool
    pages: list[StackPage]
    document: PartDocument | None
    prev_seq: int | None = None  # neighbours in stack order, for "merge with previous/next"
    next_seq: int | None = None

    @property
    def label(self) -> str:
        return "Hojas antes del primer separador" if self.seq == LEADING_SEQ else f"Parte {self.seq}"

    @property
    def by_hand(self) -> bool:
        """Cut by a person (no separator sheet in the stack)."""
        return self.separator_page is None and self.seq != LEADING_SEQ


@dataclass
class BatchView:
    id: int
    upload_id: int
    upload_number: str
    upload_status: str
    upload_status_label: str
    upload_url: str | None
    title: str
    page_count: int
    separator_pages: list[int]
    parts: list[PartView] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """A correction waits for the worker (parts to rebuild, or the upload not finished)."""
        return (self.upload_status in {s.value for s in _UNSETTLED}
                or any(p.rebuild_due for p in self.parts))

    @property
    def content_pages(self) -> int:
        return sum(len(p.pages) for p in self.parts)


def _stack_position(part: BatchPart) -> tuple[float, int]:
    """Where a part sits in the stack: its separator sheet, else its first page."""
    if part.separator_page is not None:
        return (part.separator_page, part.seq)
    return (min(part.pages) if part.pages else float("inf"), part.seq)


def _reasons(doc: Document) -> list[str]:
    """Review reasons naming the part's NIS (``archive.review_reasons``)."""
    codes = [r for r in (doc.review_reasons or "").split(",") if r]
    session = object_session(doc)
    named = (describe_stored(session, codes, doc.nis_list) if session is not None
             else describe(codes, doc.nis_list, set()))
    return [text for _, text in named]


def _document(doc: Document) -> PartDocument:
    return PartDocument(
        id=doc.id, archive_number=doc.archive_number, status=doc.status.value,
        status_label=doc.status.label, doc_type_label=doc.doc_type.label, nis=doc.nis_list,
        reasons=_reasons(doc),
        error=(doc.error_message or doc.error_code) if doc.status is DocumentStatus.ERROR else None,
        url=endpoint_url("documents.view", doc_id=doc.id))


def _pages(db: Session, part: BatchPart, doc: Document | None) -> list[StackPage]:
    """The part's stack pages; pictures only when the document's pages are exactly these."""
    out = [StackPage(n) for n in part.pages]
    if doc is None or part.rebuild_due or doc.status in _UNSETTLED or not part.pages:
        return out
    rows = db.execute(select(Page.number, Page.thumb_key, Page.image_key)
                      .where(Page.document_id == doc.id).order_by(Page.number)).all()
    if [r.number for r in rows] != list(range(1, len(part.pages) + 1)):
        return out  # the document does not hold this part's pages (yet): no misleading picture
    for cell, row in zip(out, rows):
        if row.thumb_key:
            cell.thumb_url = endpoint_url("documents.thumbnail", doc_id=doc.id, n=row.number)
        if row.image_key:
            cell.image_url = endpoint_url("documents.page_image", doc_id=doc.id, n=row.number)
    return out


def load_batch(db: Session, batch_id: int) -> BatchView | None:
    batch = db.get(Batch, batch_id)
    if batch is None:
        return None
    upload = batch.document
    view = BatchView(
        id=batch.id, upload_id=upload.id, upload_number=upload.archive_number,
        upload_status=upload.status.value, upload_status_label=upload.status.label,
        upload_url=endpoint_url("documents.view", doc_id=upload.id),
        title=upload.title or "", page_count=batch.page_count,
        separator_pages=sorted(batch.separator_pages or []))
    for part in sorted(batch.parts, key=_stack_position):
        doc = db.get(Document, part.document_id) if part.document_id else None
        view.parts.append(PartView(
            seq=part.seq, separator_page=part.separator_page, payload=part.payload or "",
            nis=part.nis, doc_type_label=part.doc_type.label if part.doc_type else None,
            problem=part.problem, rebuild_due=bool(part.rebuild_due),
            pages=_pages(db, part, doc), document=_document(doc) if doc else None))
    for before, after in zip(view.parts, view.parts[1:]):
        before.next_seq, after.prev_seq = after.seq, before.seq
    return view


def batch_id_for_document(db: Session, doc_id: int) -> int | None:
    """The batch a document belongs to: as its upload, or as one of its parts."""
    found = db.scalar(select(Batch.id).where(Batch.document_id == doc_id))
    if found is None:
        found = db.scalar(select(BatchPart.batch_id).where(BatchPart.document_id == doc_id)
                          .order_by(BatchPart.id).limit(1))
    return found


def batch_url(doc_id: int) -> str | None:
    """Link to the batch page of a document's stack, or None (not from a batch, or not allowed)."""
    url_of = endpoint_url("batches.view", batch_id=0)
    if url_of is None:
        return None
    with read_scope(services_of(current_app).sessions) as db:
        batch_id = batch_id_for_document(db, doc_id)
    return url_for("batches.view", batch_id=batch_id) if batch_id is not None else None


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    """``batch_url(doc_id)`` for the review queue and the document page (queried only if used)."""
    return {"batch_url": batch_url}


# --------------------------------------------------------------------------- page


@bp.get("/lotes/<int:batch_id>")
@requires(*VIEWERS)
def view(batch_id: int) -> str:
    with read_scope(services_of(current_app).sessions) as db:
        batch = load_batch(db, batch_id)
    if batch is None:
        abort(404, description=f"No existe el lote número {batch_id}.")
    user = current_user()
    can_edit = user is not None and user.role in (Role.ADMIN.value, *(r.value for r in EDITORS))
    return render_template("lote.html", batch=batch, can_edit=can_edit,
                           doc_types=DocumentType.choices())


# --------------------------------------------------------------------------- corrections

Correction = Callable[[Session, Batch, str], str]  # (session, batch, username) -> message


def _wake_worker(services: Services, document_id: int) -> None:
    """The upload is back in ``recibido``; if the queue is down the sweeper re-queues it."""
    wake(lambda: enqueue_processing(services, document_id), f"encolar el lote {document_id}")


def _correct(batch_id: int, correction: Correction) -> Response:
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    try:
        with session_scope(services.sessions) as db:
            batch = db.get(Batch, batch_id)
            if batch is None:
                abort(404, description=f"No existe el lote número {batch_id}.")
            upload_id = batch.document_id
            message = correction(db, batch, user.username)
    except ArchivoError as exc:  # BatchEditRefused, an invalid NIS: nothing was changed
        flash(str(exc), "error")
    else:
        flash(message)
        _wake_worker(services, upload_id)
        wake_indexer(services)
    return redirect(url_for("batches.view", batch_id=batch_id))


def _int(name: str, what: str) -> int:
    value = (request.form.get(name) or "").strip()
    if not value.lstrip("-").isdigit():
        raise BatchEditRefused(f"Indique {what}.")
    return int(value)


def _rebuild_note(seqs: list[int]) -> str:
    if len(seqs) == 1:
        return (f"La parte {seqs[0]} se rearma desde el original del lote y su documento se "
                "vuelve a procesar.")
    names = ", ".join(str(s) for s in seqs[:-1]) + f" y {seqs[-1]}"
    return (f"Las partes {names} se rearman desde el original del lote y sus documentos se "
            "vuelven a procesar.")


@bp.post("/lotes/<int:batch_id>/mover")
@requires(*EDITORS)
def move(batch_id: int) -> Response:
    def correction(db: Session, batch: Batch, actor: str) -> str:
        raw = request.form.getlist("hojas")
        if any(not v.strip().isdigit() for v in raw):
            raise BatchEditRefused("Las hojas elegidas no son números de página.")
        pages = sorted({int(v) for v in raw})
        target = _int("parte", "la parte a la que van las hojas")
        changed = move_pages(db, batch, pages, target, actor=actor)
        which = "Hoja" if len(pages) == 1 else "Hojas"
        return (f"{which} {', '.join(map(str, pages))} pasada{'s' if len(pages) > 1 else ''} a la "
                f"parte {target}. {_rebuild_note(changed)}")
    return _correct(batch_id, correction)


@bp.post("/lotes/<int:batch_id>/unir")
@requires(*EDITORS)
def merge_parts(batch_id: int) -> Response:
    def correction(db: Session, batch: Batch, actor: str) -> str:
        source = _int("parte", "la parte que se une")
        into = _int("en", "la parte con la que se une")
        had_document = any(p.seq == source and p.document_id for p in batch.parts)
        merge(db, batch, source, into, actor=actor)
        emptied = (" y su documento queda vacío (en error, sin borrarse)" if had_document
                   else "")
        return (f"Parte {source} unida a la parte {into}: sus hojas pasan a esa parte{emptied}. "
                f"{_rebuild_note([into])}")
    return _correct(batch_id, correction)


@bp.post("/lotes/<int:batch_id>/dividir")
@requires(*EDITORS)
def split(batch_id: int) -> Response | tuple[str, int]:
    doubtful = nis_to_confirm([request.form.get("nis") or ""])
    if doubtful is not None:
        return confirm_nis_page(doubtful, back=url_for("batches.view", batch_id=batch_id),
                                title="Dividir la parte", nis_label="NIS de la parte nueva")

    def correction(db: Session, batch: Batch, actor: str) -> str:
        seq = _int("parte", "la parte que se divide")
        first = _int("desde", "la hoja donde empieza la parte nueva")
        nis = (request.form.get("nis") or "").strip() or None
        tipo = (request.form.get("tipo") or "").strip()
        try:
            doc_type = DocumentType(tipo) if tipo else None
        except ValueError:
            raise BatchEditRefused(f"«{tipo}» no es un tipo de documento.") from None
        new_seq = split_part(db, batch, seq, first, actor=actor, nis=nis, doc_type=doc_type)
        part = next(p for p in batch.parts if p.seq == new_seq)
        about = f" con el NIS {part.nis}" if part.nis else " sin NIS (vincúlelo después)"
        return (f"Parte {seq} dividida antes de la hoja {first}: desde ahí es la parte nueva "
                f"{new_seq}{about}. Su documento se crea al procesar el lote. "
                f"{_rebuild_note([seq, new_seq])}")
    return _correct(batch_id, correction)
