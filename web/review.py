"""The review queue page (bandeja de revisión) and its decisions.

Lists documents in ``revisar`` oldest first (``archive.review_queue``), each
with the page that shows a candidate NIS, the candidate numbers marked on it
(boxes from the page's stored word boxes, in web-image pixels, placed as
percentages so no script is needed), and forms for the decisions of
``archive.editing``: confirm, correct, reject, and confirm a selection.
Every decision is audited by ``archive.editing``; after the commit the
indexer is woken so the document's new status and links reach the search.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from archive.db import read_scope, session_scope
from archive.editing import EditRefused, confirm, confirm_many, correct, link_nis, reject
from archive.enums import DocumentType, LinkSource, Role
from archive.errors import ArchivoError, StorageError
from archive.models import Document, RegionalUnit
from archive.nis import normalize_nis
from archive.review_queue import (NisBox, ReviewFilters, ReviewItem, list_review, nis_boxes,
                                  reason_counts)
from archive.review_reasons import describe
from archive.services import Services
from archive.words import read_words_blob

from . import services_of
from .security import current_user, requires
from .edits import Change, change_document, confirm_nis_page, nis_to_confirm, wake_indexer
from .supplies import document_url, endpoint_url, local_date, local_datetime

log = logging.getLogger(__name__)

bp = Blueprint("review", __name__)

REVIEWERS = (Role.ARCHIVISTA,)  # admin passes every check
PER_PAGE = 10  # each item shows a page image
MAX_BULK = 200
_NIS_SPLIT = re.compile(r"[,;\n]+")


@dataclass
class Shown:
    """A queue item plus what the page needs to draw it."""

    item: ReviewItem
    image_url: str | None
    boxes: list[dict[str, Any]] = field(default_factory=list)  # percentages of the image


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"fecha_hora": local_datetime, "fecha": local_date, "document_url": document_url}


@bp.app_template_global("motivos_revision")
def reasons_shown(doc: Any) -> list[tuple[str, str]]:
    """A document view's review reasons, naming its NIS (``_documento_estado.html``)."""
    codes = [code for code, _ in doc.review_reasons]
    nis = [link.nis for link in doc.links]
    return describe(codes, nis, {link.nis for link in doc.links if not link.in_registry})


def _confirmed_nis(doc_id: int) -> set[str]:
    """NIS a person already linked to the document: typing them again needs no warning."""
    with read_scope(services_of(current_app).sessions) as db:
        doc = db.get(Document, doc_id)
        return {l.nis for l in doc.supplies if l.source is not LinkSource.OCR} if doc else set()


def _boxes(services: Services, item: ReviewItem) -> list[dict[str, Any]]:
    """Candidate NIS on the shown page, as CSS percentages; none when the words are unreadable."""
    page = item.best_page
    if page is None or not page.words_key or not page.width or not page.height or not item.nis:
        return []
    try:
        words = read_words_blob(services.store.get_bytes(page.words_key))
    except (StorageError, ValueError, OSError):
        log.warning("no se pudieron leer las palabras de %s", page.words_key, exc_info=True)
        return []
    return [_percent(b, page.width, page.height) for b in nis_boxes(words, item.nis)]


def _percent(box: NisBox, width: int, height: int) -> dict[str, Any]:
    pad = 0.4  # a little margin so the mark does not hide the digits' edges
    return {"nis": box.nis,
            "left": round(max(0.0, 100 * box.left / width - pad), 2),
            "top": round(max(0.0, 100 * box.top / height - pad), 2),
            "width": round(100 * box.width / width + 2 * pad, 2),
            "height": round(100 * box.height / height + 2 * pad, 2)}


def _shown(services: Services, item: ReviewItem) -> Shown:
    page = item.best_page
    image = None
    if page is not None and page.image_key:
        image = endpoint_url("documents.page_image", doc_id=item.id, n=page.number)
    return Shown(item, image, _boxes(services, item) if image else [])


def _units(services: Services) -> list[tuple[str, str]]:
    with read_scope(services.sessions) as db:
        units = db.scalars(select(RegionalUnit).order_by(RegionalUnit.code))
        return [(u.code, u.name) for u in units]


def _return_to() -> str:
    """Back to the queue with the filters the person had (only a local /revision path)."""
    target = request.form.get("volver", "")
    if target.startswith("/revision") and "//" not in target and "\\" not in target:
        return target
    return url_for("review.queue")


@bp.get("/revision")
@requires(*REVIEWERS)
def queue() -> str | tuple[str, int]:
    services = services_of(current_app)
    args = request.args
    error = ""
    try:
        filters = ReviewFilters.parse(args.get("motivo"), args.get("tipo"), args.get("regional"))
    except ArchivoError as exc:
        filters, error = ReviewFilters(), str(exc)
    page_number = max(1, args.get("pagina", default=1, type=int) or 1)
    with read_scope(services.sessions) as db:
        try:
            result = list_review(db, filters, page=page_number, per_page=PER_PAGE)
        except ArchivoError as exc:  # a regional unit that does not exist
            filters, error = ReviewFilters(), str(exc)
            result = list_review(db, filters, page=page_number, per_page=PER_PAGE)
        counts = reason_counts(db)
    shown = [_shown(services, item) for item in result.items]
    page_url: Callable[[int], str] = lambda n: url_for(  # noqa: E731
        "review.queue", motivo=filters.reason, regional=filters.regional_code,
        tipo=filters.doc_type.value if filters.doc_type else None, pagina=n if n > 1 else None)
    return render_template(
        "revision.html", result=result, shown=shown, filters=filters, counts=counts,
        doc_types=DocumentType.choices(), units=_units(services), error=error,
        page_url=page_url, here=request.full_path.rstrip("?")), (422 if error else 200)


def _decide(doc_id: int, action: Change) -> Response:
    change_document(doc_id, action)
    return redirect(_return_to())


@bp.post("/revision/<int:doc_id>/confirmar")
@requires(*REVIEWERS)
def confirm_one(doc_id: int) -> Response:
    def action(db: Any, doc: Document, actor: str) -> str:
        confirm(db, doc, actor=actor)
        return (f"Documento {doc.archive_number} confirmado (NIS {', '.join(doc.nis_list)}): "
                "pasa a Listo.")
    return _decide(doc_id, action)


def _nis_list(form: Any) -> list[str]:
    """NIS from one or more fields, each possibly a list separated by commas or lines."""
    out: list[str] = []
    for value in form.getlist("nis"):
        out += [n.strip() for n in _NIS_SPLIT.split(value) if n.strip()]
    return out


@bp.post("/revision/<int:doc_id>/corregir")
@requires(*REVIEWERS)
def correct_one(doc_id: int) -> Response | tuple[str, int]:
    doubtful = nis_to_confirm(_nis_list(request.form), already=_confirmed_nis(doc_id))
    if doubtful is not None:
        return confirm_nis_page(doubtful, back=_return_to(), title="Corregir el documento",
                                nis_label="NIS (separados por coma)")

    def action(db: Any, doc: Document, actor: str) -> str:
        tipo = (request.form.get("tipo") or "").strip()
        try:
            doc_type = DocumentType(tipo) if tipo else None
        except ValueError:
            raise EditRefused(f"«{tipo}» no es un tipo de documento.") from None
        correct(db, doc, _nis_list(request.form), actor=actor, doc_type=doc_type)
        return (f"Documento {doc.archive_number} corregido (NIS {', '.join(doc.nis_list)}, "
                f"{doc.doc_type.label}): pasa a Listo.")
    return _decide(doc_id, action)


@bp.post("/documentos/<int:doc_id>/nis/vincular")
@requires(*REVIEWERS)
def link_one(doc_id: int) -> Response | tuple[str, int]:
    """«Vincular NIS» on the document page, with the same confirmation as the queue."""
    back = url_for("documents.view", doc_id=doc_id)
    typed = request.form.get("nis", "")
    doubtful = nis_to_confirm([typed], already=_confirmed_nis(doc_id))
    if doubtful is not None:
        return confirm_nis_page(doubtful, back=back, title="Vincular NIS")

    def action(db: Any, doc: Document, actor: str) -> str:
        if link_nis(db, doc, typed, actor=actor):
            return f"NIS {normalize_nis(typed)} vinculado al documento."
        return f"El NIS {normalize_nis(typed)} ya estaba vinculado."
    change_document(doc_id, action)
    return redirect(back)


@bp.post("/revision/<int:doc_id>/rechazar")
@requires(*REVIEWERS)
def reject_one(doc_id: int) -> Response:
    def action(db: Any, doc: Document, actor: str) -> str:
        reject(db, doc, request.form.get("motivo", ""), actor=actor)
        return f"Documento {doc.archive_number} rechazado: queda en estado Error con el motivo."
    return _decide(doc_id, action)


@bp.post("/revision/confirmar-seleccion")
@requires(*REVIEWERS)
def confirm_selected() -> Response:
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.strip().isdigit()})
    if not ids:
        flash("No seleccionó ningún documento.", "error")
        return redirect(_return_to())
    if len(ids) > MAX_BULK:
        flash(f"Seleccione hasta {MAX_BULK} documentos por vez.", "error")
        return redirect(_return_to())
    with session_scope(services.sessions) as db:
        result = confirm_many(db, ids, actor=user.username)
    if result.confirmed:
        flash(f"Confirmados {len(result.confirmed)} documento(s): {', '.join(result.confirmed)}.")
        wake_indexer(services)
    for number, reason in result.refused.items():
        flash(f"{number}: {reason}", "error")
    missing = len(ids) - len(result.confirmed) - len(result.refused)
    if missing:
        flash(f"{missing} documento(s) de la selección ya no existen.", "error")
    return redirect(_return_to())

