"""``/supplies``: the supply file of one NIS, and the import of the commercial system's export.

The file is ``archive.registry.supply_file`` (shared with the web page and
the CLI) plus the dispatches that carried its documents, fetched here because
the core may not import the dispatch package.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from flask import Response, jsonify, request

from archive.db import read_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.queue import wake
from archive.registry import ImportReport, import_supplies, load_mapping
from archive.registry.supply_file import load_supply_file, summarize_dispatches
from search import request_if_due

from ..security import current_user, requires
from . import bp
from .common import actor, require_multipart, services
from .errors import fail


READERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
MAX_MAPPING_BYTES = 64 * 1024
CHUNK = 1 << 20


@bp.get("/supplies/<nis>")
@requires(*READERS)
def get_supply(nis: str) -> Response:
    svc = services()
    with read_scope(svc.sessions) as db:
        found = load_supply_file(db, nis)  # ArchivoError (422) when it is not a NIS at all
    if found is None:
        fail(404, f"No hay datos del NIS {nis}: no figura en el registro de suministros ni "
                  "tiene documentos vinculados.")
    try:
        from dispatch import Actor, dispatches_for_supply
    except ImportError:  # the dispatch package is optional for this endpoint
        pass
    else:
        user = current_user()
        carried = dispatches_for_supply(svc, Actor.from_user(user), found.nis)
        found.dispatches = summarize_dispatches(carried, found.document_ids)
    return jsonify(found.as_dict())


def _safe_name(raw: str | None, default: str) -> str:
    """A file name for the temporary copy; it shows in the report and the audit trail."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    return name[:120] or default


def _save(stream: Any, path: Path, limit: int) -> None:
    written = 0
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                fail(413, f"El archivo supera el tamaño máximo de {limit // (1024 * 1024)} MB.")
            out.write(chunk)
    if written == 0:
        fail(422, "El archivo de suministros está vacío.")


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "archivo": report.path.name,
        "sha256": report.sha256,
        "formato": report.format,
        "columnas": report.columns,
        "insertados": report.inserted,
        "actualizados": report.updated,
        "sin_cambios": report.unchanged,
        "rechazados": report.rejected,
        "reanudado_desde": report.resumed_after,
        "rechazos": [{"linea": r.line, "nis": r.nis, "motivo": r.reason}
                     for r in report.rejections],
    }


@bp.post("/supplies/import")
@requires(Role.ADMIN)
def import_supply_file() -> tuple[Response, int]:
    svc = services()
    limit = svc.settings.max_file_bytes
    announced = request.content_length
    if announced is not None and announced > limit + 2 * MAX_MAPPING_BYTES:
        fail(413, f"El archivo supera el tamaño máximo de {limit // (1024 * 1024)} MB.")
    require_multipart()
    upload = request.files.get("archivo")
    if upload is None:
        fail(422, "Falta el archivo de suministros: envíelo en el campo «archivo».")
    mapping_text = _mapping_text()
    with tempfile.TemporaryDirectory(prefix="archivo-import-") as tmp:
        path = Path(tmp) / _safe_name(upload.filename, "suministros.csv")
        _save(upload.stream, path, limit)
        mapping = None
        try:
            if mapping_text is not None:
                mapping_path = Path(tmp) / "mapeo.toml"
                mapping_path.write_text(mapping_text, encoding="utf-8")
                mapping = load_mapping(mapping_path)
            report = import_supplies(svc, path, mapping=mapping, actor=actor())
        except ArchivoError as exc:  # name the upload, not the temporary folder
            fail(422, str(exc).replace(str(path), path.name).replace(f"{tmp}/", ""))
    _wake_indexer()
    return jsonify(report_json(report)), 200


def _mapping_text() -> str | None:
    """The optional TOML mapping, sent as a file part or as a plain form field."""
    part = request.files.get("mapeo")
    if part is not None:
        raw = part.stream.read(MAX_MAPPING_BYTES + 1)
    elif request.form.get("mapeo"):
        raw = request.form["mapeo"].encode("utf-8")
    else:
        return None
    if len(raw) > MAX_MAPPING_BYTES:
        fail(413, f"El archivo de mapeo supera {MAX_MAPPING_BYTES // 1024} KB.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(422, "El archivo de mapeo debe estar en UTF-8.")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fail(422, f"El mapeo no es TOML válido: {exc}.")
    return text


def _wake_indexer() -> None:
    """Documents whose supply data changed are marked; the sweeper finds them if this fails."""
    wake(lambda: request_if_due(services()), "avisar al indexador tras la importación")
