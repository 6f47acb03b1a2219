"""Uploading scans: a drag-and-drop page, one JSON request per file, live status.

Two ways in, one rule set:

* With JavaScript (``subir.js``): each file is its own ``POST /subir/archivo``
  (two at a time, with a progress bar), then ``GET /subir/estado?ids=..``
  is polled until every file is ``listo``, ``revisar`` or ``error``. These two
  endpoints always answer JSON, errors included (``{"error", "mensaje"}`` in
  Spanish), because the page script reads them.
* Without JavaScript: the same form posts every file at once to ``POST /subir``;
  the server stores them one after the other and shows a result table, and
  ``GET /subir?ids=..`` shows their current status (reload to refresh).
  The size limit then applies to the whole request (``MAX_CONTENT_LENGTH``),
  so very large batches must be sent in parts; the page says so.

Oversized files are refused before they are read whole: werkzeug checks the
``Content-Length`` against ``MAX_CONTENT_LENGTH`` before parsing, and
``accept_stream`` stops reading at ``ARCHIVO_MAX_ARCHIVO_MB`` while streaming
from werkzeug's spooled temporary file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from archive.db import read_scope, session_scope
from archive.editing import add_note
from archive.enums import DocumentStatus, DocumentType, Role
from archive.errors import ArchivoError
from archive.nis import normalize_nis_list
from archive.nis_check import NisCheck, check_nis
from archive.review_reasons import describe, known_nis
from archive.services import Services
from archive.sizes import human_size
from archive.text_input import has_control_characters
from ingest import Accepted, DocumentSummary, RejectedInput, accept_stream, is_final, summaries

from .bodies import accepts_files
from . import services_of
from .edits import nis_to_confirm, wake_indexer
from .errors import MESSAGES, error_response
from .security import current_user, requires

log = logging.getLogger(__name__)

bp = Blueprint("upload", __name__)

JSON_ENDPOINTS = frozenset({"upload.file", "upload.status", "upload.check_nis_view"})
MAX_STATUS_IDS = 200
MAX_NOTES = 2000
_NIS_SPLIT = re.compile(r"[,;\s]+")


class UploadRefused(Exception):
    """A request the upload endpoints refuse, with its HTTP status and Spanish message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class UploadFields:
    """The batch fields the archivist typed once for every file."""

    doc_type: DocumentType | None
    nis: list[str]
    notes: str


# ------------------------------------------------- field parsing (reusable by the API)

def parse_doc_type(raw: str | None) -> DocumentType | None:
    """Empty means "let the classifier decide"; a code or Spanish label otherwise."""
    text = (raw or "").strip()
    if not text or text == "auto":
        return None
    try:
        return DocumentType.parse(text)  # type: ignore[return-value]
    except ValueError as exc:
        raise UploadRefused(422, "tipo_invalido", f"Tipo de documento desconocido: {exc}")


def parse_nis_list(raw: str | None) -> list[str]:
    """NIS separated by commas, semicolons or spaces; dots and dashes inside a number are fine."""
    try:
        return normalize_nis_list(p for p in _NIS_SPLIT.split((raw or "").strip()) if p)
    except ArchivoError as exc:
        raise UploadRefused(422, "nis_invalido", str(exc))


def parse_fields(form: Any) -> UploadFields:
    notes = (form.get("notas") or "").strip()
    if len(notes) > MAX_NOTES:
        raise UploadRefused(422, "notas_largas",
                            f"Las notas admiten hasta {MAX_NOTES} caracteres.")
    if has_control_characters(notes):  # a multipart form is not seen by web.bodies
        raise UploadRefused(422, "notas_invalidas",
                            "Las notas contienen caracteres de control (por ejemplo NUL): "
                            "escriba solo texto.")
    return UploadFields(parse_doc_type(form.get("tipo")), parse_nis_list(form.get("nis")), notes)


def nis_unconfirmed(check: NisCheck) -> UploadRefused:
    warnings = " ".join(w.message for w in check.warnings)
    return UploadRefused(422, "nis_sin_confirmar",
                         f"{warnings} Revise el NIS o confirme que es correcto.")


def store_upload(services: Services, file: FileStorage, fields: UploadFields,
                 actor: str) -> Accepted:
    """Store one file and queue it; notes go to the document's history (``editing.add_note``)."""
    filename = (file.filename or "").strip() or "sin_nombre"
    try:
        accepted = accept_stream(services, file.stream, filename, actor=actor,
                                 doc_type=fields.doc_type, nis=fields.nis)
    except RejectedInput as exc:
        status = 413 if exc.code == "tamano" else 422
        code = "demasiado_grande" if exc.code == "tamano" else f"archivo_{exc.code}"
        raise UploadRefused(status, code, str(exc))
    if fields.notes:
        with session_scope(services.sessions) as db:
            add_note(db, accepted.archive_number, fields.notes, actor=actor, filename=filename)
    if accepted.duplicate and fields.nis:
        wake_indexer(services)  # known bytes with new NIS: the links changed
    return accepted


def accepted_json(acc: Accepted) -> dict[str, object]:
    status = DocumentStatus(acc.status)
    if acc.duplicate:
        message = (f"«{acc.filename}» ya estaba archivado como {acc.archive_number} "
                   f"(estado: {status.label.lower()}); no se creó otro documento.")
    else:
        message = f"«{acc.filename}» recibido como {acc.archive_number}; se procesará en breve."
    return {"id": acc.document_id, "numero": acc.archive_number, "estado": status.value,
            "estado_texto": status.label, "duplicado": acc.duplicate, "nis": acc.nis,
            "archivo": acc.filename, "url": document_url(acc.document_id), "mensaje": message}


def document_url(document_id: int) -> str:
    """The document page (``documents`` blueprint, written separately): a plain path."""
    return f"/documentos/{document_id}"


def summary_json(s: DocumentSummary, unknown: frozenset[str] = frozenset()) -> dict[str, object]:
    """One document's status; ``unknown``: its NIS the registry lacks, named in the reasons."""
    status = DocumentStatus(s.status)
    return {"id": s.document_id, "numero": s.archive_number, "estado": status.value,
            "estado_texto": status.label, "final": is_final(s.status), "tipo": s.doc_type,
            "tipo_texto": DocumentType(s.doc_type).label, "nis": s.nis, "paginas": s.pages,
            "motivos": [{"codigo": r, "texto": text}
                        for r, text in describe(s.review_reasons, s.nis, unknown)],
            "error": s.error, "url": document_url(s.document_id)}


def summaries_json(services: Services, ids: list[int]) -> list[dict[str, object]]:
    """The status of ``ids`` in the order asked (unknown ids left out)."""
    found = summaries(services, ids)
    nis = {n for s in found.values() for n in s.nis}
    with read_scope(services.sessions) as db:
        unknown = frozenset(nis - known_nis(db, nis))
    return [summary_json(found[i], unknown) for i in ids if i in found]


def parse_ids(raw: str | None) -> list[int]:
    ids: list[int] = []
    for part in (raw or "").replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or len(part) > 12:
            raise UploadRefused(400, "ids_invalidos",
                                "El parámetro ids debe ser una lista de números separados "
                                "por comas (por ejemplo ids=1,2,3).")
        if int(part) not in ids:
            ids.append(int(part))
    if len(ids) > MAX_STATUS_IDS:
        raise UploadRefused(400, "demasiados_ids",
                            f"Consulte como máximo {MAX_STATUS_IDS} documentos a la vez.")
    return ids


def _actor() -> str:
    user = current_user()
    assert user is not None  # the before_request hook let only signed-in archivists through
    return user.username


def _json_error(status: int, code: str, message: str) -> Response:
    resp = jsonify(error=code, mensaje=message)
    resp.status_code = status
    return resp


def _limit_message(services: Services) -> str:
    return (f"El archivo supera el tamaño máximo de {services.settings.max_file_mb} MB. "
            "Divida el documento o pida que se amplíe ARCHIVO_MAX_ARCHIVO_MB.")


# ---------------------------------------------------------------- views

def _page_context(services: Services) -> dict[str, object]:
    return {"tipos": DocumentType.choices(), "max_mb": services.settings.max_file_mb}


@bp.get("/subir")
@requires(Role.ARCHIVISTA)
def page() -> str:
    """The upload page; ``?ids=1,2`` adds the current status of those documents (no-JS path)."""
    services = services_of(current_app)
    seguimiento: list[dict[str, object]] = []
    try:
        ids = parse_ids(request.args.get("ids"))
    except UploadRefused:
        ids = []
    if ids:
        seguimiento = summaries_json(services, ids)
    return render_template("subir.html", seguimiento=seguimiento, **_page_context(services))


@bp.post("/subir")
@accepts_files
@requires(Role.ARCHIVISTA)
def submit() -> tuple[str, int]:
    """The form without JavaScript: every file of the request, one after the other."""
    services = services_of(current_app)
    files = [f for f in request.files.getlist("archivo") if f.filename]
    values = {k: request.form.get(k, "") for k in ("tipo", "nis", "notas")}
    context = _page_context(services) | {"valores": values}
    if not files:
        return render_template("subir.html", error="Elija al menos un archivo para subir.",
                               **context), 400
    try:
        fields = parse_fields(request.form)
    except UploadRefused as exc:
        return render_template("subir.html", error=exc.message, **context), exc.status
    doubtful = nis_to_confirm(fields.nis)
    if doubtful is not None:  # files cannot be kept across requests: they are chosen again
        return render_template("subir.html", nis_dudoso=doubtful, **context), 200
    results: list[dict[str, object]] = []
    for file in files:
        try:
            accepted = store_upload(services, file, fields, _actor())
            results.append(accepted_json(accepted) | {"ok": True})
        except UploadRefused as exc:
            results.append({"ok": False, "archivo": file.filename, "mensaje": exc.message})
    ids = ",".join(str(r["id"]) for r in results if r.get("ok"))
    return render_template("subir.html", resultados=results, ids=ids, **context), 200


@bp.post("/subir/archivo")
@accepts_files
@requires(Role.ARCHIVISTA)
def file() -> tuple[Response, int]:
    """One file (field ``archivo``) with the batch fields; 202 with the document's number."""
    services = services_of(current_app)
    try:
        upload = request.files.get("archivo")
        if upload is None or not upload.filename:
            raise UploadRefused(400, "falta_archivo",
                                "Envíe el archivo en el campo «archivo» (multipart/form-data).")
        fields = parse_fields(request.form)
        doubtful = nis_to_confirm(fields.nis)
        if doubtful is not None:
            raise nis_unconfirmed(doubtful)
        accepted = store_upload(services, upload, fields, _actor())
    except UploadRefused as exc:
        return _json_error(exc.status, exc.code, exc.message), exc.status
    return jsonify(accepted_json(accepted)), (200 if accepted.duplicate else 202)


@bp.get("/subir/estado")
@requires(Role.ARCHIVISTA)
def status() -> Response:
    """Current status of the given documents, in the order asked; unknown ids are left out."""
    ids = parse_ids(request.args.get("ids"))
    shown = summaries_json(services_of(current_app), ids)
    return jsonify(documentos=shown, terminado=all(bool(d["final"]) for d in shown))


@bp.get("/subir/nis")
@requires(Role.ARCHIVISTA)
def check_nis_view() -> Response:
    """The page script asks before sending: refusal (422) or warnings to confirm, with their key."""
    nis = parse_nis_list(request.args.get("nis"))
    with read_scope(services_of(current_app).sessions) as db:
        check = check_nis(db, nis)
    return jsonify(nis=check.nis, clave=check.key, avisos=[w.as_dict() for w in check.warnings])


@bp.app_template_filter("tamano")
def size_filter(size: int) -> str:
    """``{{ bytes|tamano }}``: «0 bytes», «1,2 KB» (``archive.sizes``)."""
    return human_size(size)


@bp.errorhandler(UploadRefused)
def _refused(exc: UploadRefused) -> Response:
    if request.endpoint in JSON_ENDPOINTS:
        return _json_error(exc.status, exc.code, exc.message)
    return error_response(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    """JSON for the script's endpoints (413 included, raised while parsing the body)."""
    status = exc.code or 500
    if status == 413:
        message: str | None = _limit_message(services_of(current_app))
    else:
        default = type(exc).description
        message = exc.description if exc.description and exc.description != default else None
    if request.endpoint in JSON_ENDPOINTS:
        code, fallback = MESSAGES.get(status, ("error", "Ocurrió un error."))
        return _json_error(status, code, message or fallback)
    return error_response(status, message)


__all__ = ["bp", "parse_doc_type", "parse_nis_list", "parse_fields", "store_upload",
           "accepted_json", "summary_json", "UploadRefused", "UploadFields"]
