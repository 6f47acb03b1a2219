"""``/documents``: upload, list, read, edit and download archived documents.

Uploads go through ``ingest.accept.accept_stream`` exactly like the web page
and the CLI: the bytes are stored, the document row is the job and OCR runs
in the worker, so the answer is 202 with the status to poll. A file that is
not a scan is stored anyway and ends in ``error`` with its reason (see
docs/ingesta.md); only what cannot be stored at all is refused here.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select

from archive.db import read_scope, session_scope
from archive.document_view import DocumentView, load_document
from archive.editing import DocumentChanges, add_note, set_links, update_document
from archive.enums import Role
from archive.models import Document, Page
from archive.nis_check import nis_warnings
from archive.text_input import has_control_characters
from ingest import accept_stream

from ..edits import wake_indexer
from ..downloads import record_original_view, safe_filename, send_object
from ..security import requires
from . import bp
from .common import (actor, bool_arg, int_arg, json_object, parse_doc_type, parse_nis_list,
                     require_multipart, services, split_values)
from .document_json import document_json, document_url
from .document_list import page_of_ids, read_filters
from .errors import fail

log = logging.getLogger(__name__)

READERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
# Room for the form's other fields and the multipart boundaries on top of the file itself;
# the exact file limit is enforced while the bytes are stored (accept_stream).
FORM_ALLOWANCE = 64 * 1024
MAX_NOTES = 2000
MAX_TITLE = 300
MAX_CODE = 40
EDITABLE = {"tipo", "titulo", "fecha", "expediente", "ot", "nis"}
# While the pipeline works on a document its outcome overwrites type, date and codes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; larger ones cannot exist
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100  # as /search: each document is read in full, page texts aside
MAX_PAGE = 100_000


def _control_message(label: str) -> str:
    return (f"{label} contiene caracteres de control (por ejemplo, un salto de línea o un "
            "carácter nulo) que no se pueden guardar. Quítelos y vuelva a intentarlo.")


def _too_big_message(limit: int) -> str:
    return (f"El archivo supera el tamaño máximo de {limit // (1024 * 1024)} MB. Divida el "
            "documento o pida que se amplíe ARCHIVO_MAX_ARCHIVO_MB.")


def _client_filename(raw: str | None) -> str:
    """The name as the client sent it, without folders or control characters (kept for people)."""
    name = _CONTROL.sub("", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:300] or "archivo"


@bp.post("/documents")
@requires(Role.ARCHIVISTA)
def upload_document() -> tuple[Response, int]:
    svc = services()
    limit = svc.settings.max_file_bytes
    # Refuse by the announced size before a single byte of the body is read.
    if request.content_length is not None and request.content_length > limit + FORM_ALLOWANCE:
        fail(413, _too_big_message(limit))
    require_multipart()
    files = [f for f in request.files.getlist("archivo") if f.filename or f.content_length]
    if not files:
        fail(422, "Falta el archivo: envíelo en el campo «archivo» (multipart/form-data).")
    if len(files) > 1:
        fail(422, "Envíe un solo archivo por solicitud en el campo «archivo».")
    raw_type = (request.form.get("tipo") or "").strip()
    doc_type = parse_doc_type(raw_type) if raw_type else None
    nis = parse_nis_list(split_values(request.form.getlist("nis")))
    notes = (request.form.get("notas") or "").strip()
    if len(notes) > MAX_NOTES:
        fail(422, f"Las notas admiten hasta {MAX_NOTES} caracteres.")
    if has_control_characters(notes):  # a multipart form: not seen by the body checks
        fail(422, _control_message("Las notas"))
    upload = files[0]
    who = actor()
    accepted = accept_stream(svc, upload.stream, _client_filename(upload.filename), actor=who,
                             doc_type=doc_type, nis=nis)
    if accepted.duplicate and nis:  # known bytes with new NIS: the links changed
        wake_indexer(svc)
    if notes:  # there is no notes column yet: the reception note lives in the audit trail
        with session_scope(svc.sessions) as db:
            add_note(db, accepted.archive_number, notes, actor=who)
    with read_scope(svc.sessions) as db:
        warnings = nis_warnings(db, nis)
    body = {"id": accepted.document_id, "numero": accepted.archive_number,
            "estado": accepted.status, "duplicado": accepted.duplicate, "nis": accepted.nis,
            "archivo": accepted.filename, "url": document_url(accepted.document_id),
            "avisos": [w.as_dict() for w in warnings]}
    resp = jsonify(body)
    resp.headers["Location"] = body["url"]
    return resp, 202


def _known_id(doc_id: int) -> None:
    if doc_id > MAX_ID:
        fail(404, f"No existe el documento {doc_id}.")


def _load(doc_id: int, *, with_text: bool = False, history: int = 0) -> DocumentView:
    _known_id(doc_id)
    with read_scope(services().sessions) as db:
        view = load_document(db, doc_id, with_text=with_text, history_limit=history)
    if view is None:
        fail(404, f"No existe el documento {doc_id}.")
    return view


@bp.get("/documents")
@requires(*READERS)  # the same readers as one document: the regional role reads neither
def list_documents() -> Response:
    """Documents matching the filters, newest received first, one page at a time."""
    page = int_arg("pagina", 1, maximum=MAX_PAGE)
    per_page = int_arg("por_pagina", DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE)
    with read_scope(services().sessions) as db:
        total, ids = page_of_ids(db, read_filters(db), page=page, per_page=per_page)
        views = [load_document(db, i, with_text=False, history_limit=0) for i in ids]
    return jsonify({
        "total": total, "pagina": page, "por_pagina": per_page,
        "paginas": max(1, math.ceil(total / per_page)),
        "documentos": [document_json(v, with_text=False) for v in views if v is not None],
    })


@bp.get("/documents/<int:doc_id>")
@requires(*READERS)
def get_document(doc_id: int) -> Response:
    with_text = bool_arg("texto", True)
    return jsonify(document_json(_load(doc_id, with_text=with_text, history=200),
                                 with_text=with_text))


def _text_field(body: dict[str, Any], key: str, limit: int, label: str, *,
                clearable: bool = False) -> str | None:
    """A text field; with ``clearable``, null or "" empties it (editing.py clears on "")."""
    if key not in body:
        return None
    value = body[key]
    if value is None and clearable:
        return ""
    if not isinstance(value, str):
        fail(422, f"«{key}» debe ser un texto" + (" o null." if clearable else "."))
    if has_control_characters(value, multiline=False):  # one line: no tab or line break either
        fail(422, _control_message(label))
    if len(value.strip()) > limit:
        fail(422, f"{label} no puede tener más de {limit} caracteres.")
    return value


def _date_field(body: dict[str, Any]) -> tuple[dt.date | None, bool]:
    """(new date, clear it): null clears the date."""
    if "fecha" not in body:
        return None, False
    value = body["fecha"]
    if value is None:
        return None, True
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2100:
        fail(422, "«fecha» debe ser una fecha AAAA-MM-DD entre 1900 y 2100 (por ejemplo "
                  "\"2024-03-15\") o null para borrarla.")
    return day, False


def _changes(body: dict[str, Any]) -> tuple[DocumentChanges, list[str] | None]:
    unknown = sorted(set(body) - EDITABLE)
    if unknown:
        fail(422, f"Campos desconocidos: {', '.join(unknown)}. Se pueden cambiar: "
                  f"{', '.join(sorted(EDITABLE))}.")
    doc_type = None
    if "tipo" in body:
        if not isinstance(body["tipo"], str):
            fail(422, "«tipo» debe ser un texto, por ejemplo \"contrato\".")
        doc_type = parse_doc_type(body["tipo"])
    nis = None
    if "nis" in body:
        if not isinstance(body["nis"], list):
            fail(422, "«nis» debe ser la lista completa de NIS, por ejemplo [\"4992383\"].")
        nis = parse_nis_list(body["nis"])
    day, clear_date = _date_field(body)
    changes = DocumentChanges(
        doc_type=doc_type, title=_text_field(body, "titulo", MAX_TITLE, "El título"),
        document_date=day, clear_date=clear_date,
        expediente=_text_field(body, "expediente", MAX_CODE, "El número de expediente",
                               clearable=True),
        ot_number=_text_field(body, "ot", MAX_CODE, "El número de OT", clearable=True))
    return changes, nis


@bp.patch("/documents/<int:doc_id>")
@requires(Role.ARCHIVISTA)
def edit_document(doc_id: int) -> Response:
    changes, nis = _changes(json_object())
    svc = services()
    who = actor()
    _known_id(doc_id)
    with session_scope(svc.sessions) as db:
        doc = db.get(Document, doc_id)
        if doc is None:
            fail(404, f"No existe el documento {doc_id}.")
        update_document(db, doc, changes, actor=who)
        warnings = set_links(db, doc, nis, actor=who) if nis is not None else []
    wake_indexer(svc)
    body = document_json(_load(doc_id, with_text=True, history=200))
    # No confirmation step in an API: doubtful numbers are saved and named, for the client.
    body["avisos"] = [w.as_dict() for w in warnings]
    return jsonify(body)


@bp.get("/documents/<int:doc_id>/original")
@requires(*READERS)
def document_original(doc_id: int) -> Response:
    view = _load(doc_id)
    svc = services()
    return send_object(svc, view.original_key, view.original_media_type,
                       safe_filename(view.archive_number, view.original_media_type),
                       on_found=lambda: record_original_view(svc, view.archive_number,
                                                             channel="api"))


@bp.get("/documents/<int:doc_id>/pdf")
@requires(*READERS)
def document_pdf(doc_id: int) -> Response:
    view = _load(doc_id)
    if view.pdf_key is None:
        fail(404, f"El documento {view.archive_number} todavía no tiene PDF buscable "
                  f"(estado: {view.status_label}).")
    return send_object(services(), view.pdf_key, "application/pdf",
                       safe_filename(view.archive_number, "application/pdf"))


def _page(doc_id: int, number: int) -> tuple[str, Page]:
    _known_id(doc_id)
    if number > MAX_ID:
        fail(404, f"El documento {doc_id} no tiene página {number}.")
    with read_scope(services().sessions) as db:
        row = db.execute(select(Document.archive_number, Page)
                         .join(Page, Page.document_id == Document.id)
                         .where(Document.id == doc_id, Page.number == number)).first()
        if row is None:
            if db.get(Document, doc_id) is None:
                fail(404, f"No existe el documento {doc_id}.")
            fail(404, f"El documento {doc_id} no tiene página {number}.")
        db.expunge(row[1])
        return row[0], row[1]


def _page_object(doc_id: int, number: int, attr: str, suffix: str) -> Response:
    numero, page = _page(doc_id, number)
    key = getattr(page, attr)
    if key is None:
        fail(404, f"La página {number} del documento {numero} no tiene imagen.")
    return send_object(services(), key, "image/jpeg",
                       safe_filename(f"{numero}-p{number:04d}{suffix}", "image/jpeg"),
                       inline=True, cache_seconds=300)


@bp.get("/documents/<int:doc_id>/pages/<int:number>/image")
@requires(*READERS)
def page_image(doc_id: int, number: int) -> Response:
    return _page_object(doc_id, number, "image_key", "")


@bp.get("/documents/<int:doc_id>/pages/<int:number>/thumbnail")
@requires(*READERS)
def page_thumbnail(doc_id: int, number: int) -> Response:
    return _page_object(doc_id, number, "thumb_key", "-miniatura")


@bp.get("/documents/<int:doc_id>/pages/<int:number>/text")
@requires(*READERS)
def page_text(doc_id: int, number: int) -> Response:
    numero, page = _page(doc_id, number)
    name = safe_filename(f"{numero}-p{number:04d}", "text/plain")
    return Response(page.text, mimetype="text/plain", headers={
        "Content-Disposition": f'inline; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })

