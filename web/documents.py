"""The document page: page viewer with the search hits marked, OCR text, metadata, edits.

Search hits are found again here for the page being viewed, with the search
package's own functions (``terms_of``/``hit_spans``/``hit_boxes``), so the
viewer marks exactly what the search matched. Boxes are in pixels of the
page's web image; ``visor.js`` scales them to the size the image is shown at.

Archivists (and admin) get edit forms; every edit goes through
``archive.editing`` (audited, marks the document for re-indexing) and wakes
the indexer after the commit. Images and downloads are served through
role-checked routes with keys read from the database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from archive.db import read_scope
from archive.document_view import DocumentView, PageView, load_document
from archive.editing import DocumentChanges, unlink_nis, update_document
from archive.enums import DocumentType, Role
from archive.labels import field_list
from archive.localtime import fmt_datetime
from archive.errors import ArchivoError, StorageError
from archive.models import Document, Page
from archive.services import Services
from archive.words import read_words_blob
from search import (PEOPLE_MESSAGE, HitTerms, IndexUnavailable, QueryError, WordBox, hit_boxes,
                    hit_spans, hit_terms)

from . import services_of
from .edits import Change, change_document
from .downloads import record_original_view, safe_filename, send_object
from .search_pages import supply_url
from .security import current_user, requires

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

VIEWERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
EDITORS = (Role.ARCHIVISTA,)  # admin passes every check
IMAGE_CACHE_SECONDS = 300  # short: re-running OCR rewrites a page's image under the same key
MAX_QUERY_CHARS = 500


# --------------------------------------------------------------------------- hits


@dataclass
class Marks:
    """What to mark on the viewed document for the query carried from the search page."""

    query: str = ""
    terms: HitTerms = field(default_factory=HitTerms)
    problem: str = ""  # why nothing can be marked (bad query, index being rebuilt)


def _marks(services: Services, query: str, fuzzy: bool) -> Marks:
    if not query:
        return Marks()
    try:
        return Marks(query, hit_terms(services, query, fuzzy=fuzzy))
    except QueryError as exc:
        return Marks(query, problem=f"No se marcan coincidencias: {exc}")
    except IndexUnavailable as exc:
        log.error("no se marcan coincidencias: %s", exc)
        return Marks(query, problem=f"No se marcan coincidencias: {PEOPLE_MESSAGE}")


def page_boxes(services: Services, page: PageView, terms: HitTerms) -> list[WordBox]:
    """Boxes of the hit words on one page; none (not an error) when the words are unreadable."""
    if not terms or not page.words_key:
        return []
    try:
        return hit_boxes(read_words_blob(services.store.get_bytes(page.words_key)), terms)
    except (StorageError, ValueError, OSError):
        log.warning("no se pudieron leer las palabras de %s", page.words_key, exc_info=True)
        return []


def text_segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_hit) so the template escapes every piece itself."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


# --------------------------------------------------------------------------- page


def _can_edit() -> bool:
    user = current_user()
    return user is not None and user.role in (Role.ADMIN.value, *(r.value for r in EDITORS))


def _load(doc_id: int) -> DocumentView:
    with read_scope(services_of(current_app).sessions) as db:
        doc = load_document(db, doc_id)
    if doc is None:
        abort(404, description=f"No existe el documento número {doc_id}.")
    return doc


local_time = fmt_datetime  # an instant as the clerk's clock shows it (stored times are UTC)


def _history_rows(doc: DocumentView) -> list[dict[str, Any]]:
    """Audit events in people's words (``archive.labels``): no action, field or value codes."""
    return [{"at": e.at, "actor": e.actor, "action": e.action_label, "details": e.detail_rows}
            for e in doc.history]


@bp.get("/documentos/<int:doc_id>")
@requires(*VIEWERS)
def view(doc_id: int) -> str:
    services = services_of(current_app)
    doc = _load(doc_id)
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    fuzzy = request.args.get("aproximada") == "1"
    marks = _marks(services, query, fuzzy)
    hits_per_page = {p.number: len(hit_spans(p.text, marks.terms)) for p in doc.pages} \
        if marks.terms else {}
    asked = request.args.get("pagina", type=int)
    if asked is None:  # opened without a page: the first one with a hit
        asked = min((n for n, c in hits_per_page.items() if c), default=1)
    page = next((p for p in doc.pages if p.number == asked), None)
    if page is None and doc.pages:  # a typo in the address: the nearest page, not a dead end
        page = doc.pages[-1] if asked > doc.pages[-1].number else doc.pages[0]
        flash(f"El documento {doc.archive_number} no tiene página {asked} (tiene "
              f"{len(doc.pages)}): se muestra la página {page.number}.", "error")
    boxes = page_boxes(services, page, marks.terms) if page else []
    segments = text_segments(page.text, hit_spans(page.text, marks.terms)) if page else []
    return render_template(
        "documento.html", doc=doc, page=page, marks=marks, fuzzy=fuzzy, boxes=boxes,
        box_data=[b.as_dict() for b in boxes], segments=segments,
        hits_per_page=hits_per_page, hit_pages=sorted(n for n, c in hits_per_page.items() if c),
        history=_history_rows(doc), can_edit=_can_edit(), travel=_travel(services, doc.id),
        doc_types=DocumentType.choices(), local_time=local_time, supply_url=supply_url,
        page_url=_page_url(doc.id, query, fuzzy))


@dataclass
class Travel:
    """Where the paper original is and which dispatches carried the document."""

    location: Any  # dispatch.location.Location
    dispatches: list[Any]  # dispatch.views.DispatchView
    kept_in: str | None  # the shelf place recorded in the physical archive


def _travel(services: Services, doc_id: int) -> Travel:
    from dispatch import Actor, dispatches_for_document, where_is

    user = current_user()
    assert user is not None
    actor = Actor(user.username, Role(user.role), user.regional_unit_id)
    from archive.physical.folders import describe_place, document_place

    with read_scope(services.sessions) as db:
        place = document_place(db, doc_id)
        kept_in = describe_place(place) if place is not None else None
    return Travel(where_is(services, document_id=doc_id),
                  dispatches_for_document(services, actor, doc_id), kept_in)


def _page_url(doc_id: int, query: str, fuzzy: bool) -> Callable[[int], str]:
    def url(number: int) -> str:
        return url_for("documents.view", doc_id=doc_id, pagina=number, q=query or None,
                       aproximada="1" if fuzzy else None)
    return url


# --------------------------------------------------------------------------- edits


def _parse_date(text: str) -> dt.date | None:
    """Empty -> unchanged; ``2024-03-15`` (date input) or ``15/03/2024``."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ArchivoError(f"«{text}» no es una fecha válida; use el formato 15/03/2024.")


def _changes(form: Any) -> DocumentChanges:
    tipo = form.get("tipo", "").strip()
    try:
        doc_type = DocumentType(tipo) if tipo else None
    except ValueError:
        raise ArchivoError(f"«{tipo}» no es un tipo de documento.") from None
    title = form.get("titulo")
    return DocumentChanges(doc_type=doc_type, title=title if title is not None else None,
                           document_date=_parse_date(form.get("fecha", "")),
                           clear_date="fecha" in form and not form.get("fecha", "").strip(),
                           expediente=form.get("expediente"), ot_number=form.get("ot"))


def _edit(doc_id: int, change: Change) -> Response:
    change_document(doc_id, change)
    return redirect(url_for("documents.view", doc_id=doc_id) + "#edicion")


@bp.post("/documentos/<int:doc_id>/editar")
@requires(*EDITORS)
def edit(doc_id: int) -> Response:
    def change(db: Any, doc: Document, actor: str) -> str:
        diff = update_document(db, doc, _changes(request.form), actor=actor)
        if not diff:
            return "No había cambios que guardar."
        return f"Datos guardados: {field_list(diff)}."
    return _edit(doc_id, change)


@bp.post("/documentos/<int:doc_id>/nis/<nis>/quitar")
@requires(*EDITORS)
def remove_link(doc_id: int, nis: str) -> Response:
    def change(db: Any, doc: Document, actor: str) -> str:
        if unlink_nis(db, doc, nis, actor=actor):
            return f"NIS {nis} desvinculado del documento."
        return f"El NIS {nis} no estaba vinculado."
    return _edit(doc_id, change)


# --------------------------------------------------------------------------- images, downloads


def _page_object(doc_id: int, number: int, column: Any, what: str) -> tuple[str, str]:
    """(archive number, key) of one page derivative, or a Spanish 404."""
    with read_scope(services_of(current_app).sessions) as db:
        row = db.execute(select(Document.archive_number, column).join(Page)
                         .where(Page.document_id == doc_id, Page.number == number)).first()
    if row is None or row[1] is None:
        abort(404, description=f"No hay {what} de la página {number} del documento {doc_id}.")
    return row[0], row[1]


@bp.get("/documentos/<int:doc_id>/paginas/<int:n>/imagen")
@requires(*VIEWERS)
def page_image(doc_id: int, n: int) -> Response:
    number, key = _page_object(doc_id, n, Page.image_key, "imagen")
    return send_object(services_of(current_app), key, "image/jpeg",
                       safe_filename(f"{number}-p{n:04d}", "image/jpeg"), inline=True,
                       cache_seconds=IMAGE_CACHE_SECONDS)


@bp.get("/documentos/<int:doc_id>/paginas/<int:n>/miniatura")
@requires(*VIEWERS)
def thumbnail(doc_id: int, n: int) -> Response:
    number, key = _page_object(doc_id, n, Page.thumb_key, "miniatura")
    return send_object(services_of(current_app), key, "image/jpeg",
                       safe_filename(f"{number}-p{n:04d}-miniatura", "image/jpeg"), inline=True,
                       cache_seconds=IMAGE_CACHE_SECONDS)


def _document_files(doc_id: int) -> tuple[str, str, str, str | None]:
    """(archive number, original key, original media type, PDF key) of a document."""
    with read_scope(services_of(current_app).sessions) as db:
        doc = db.scalar(select(Document).where(Document.id == doc_id).options(
            selectinload(Document.original), selectinload(Document.pdf)))
        if doc is None:
            abort(404, description=f"No existe el documento número {doc_id}.")
        return (doc.archive_number, doc.original.storage_key, doc.original.media_type,
                doc.pdf.storage_key if doc.pdf else None)


@bp.get("/documentos/<int:doc_id>/original")
@requires(*VIEWERS)
def original(doc_id: int) -> Response:
    number, key, media_type, _ = _document_files(doc_id)
    svc = services_of(current_app)
    return send_object(svc, key, media_type, safe_filename(f"{number}-original", media_type),
                       on_found=lambda: record_original_view(svc, number, channel="web"))


@bp.get("/documentos/<int:doc_id>/pdf")
@requires(*VIEWERS)
def pdf(doc_id: int) -> Response:
    number, _, _, key = _document_files(doc_id)
    if key is None:
        abort(404, description="Este documento todavía no tiene PDF con texto buscable "
                               "(se genera al terminar el reconocimiento de texto).")
    return send_object(services_of(current_app), key, "application/pdf",
                       safe_filename(number, "application/pdf"))
