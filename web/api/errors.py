"""API errors: ``{"error": code, "mensaje": Spanish text}`` with the status that fits.

Views raise :func:`fail` for their own refusals. The blueprint handlers below
turn domain errors into the right status, and an unreachable database, object
store or search index into 503, so a client can tell "try again later" from
"your request is wrong". The app-wide handlers (``web/errors.py``) still
answer everything else (404 of unknown routes, 500) in the same shape.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn

from flask import Blueprint, Response
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import default_exceptions

from archive.editing import EditRefused
from archive.errors import ConfigError, ObjectNotFound, StorageError
from ingest import RejectedInput
from search import PEOPLE_MESSAGE, IndexUnavailable, QueryError

from ..errors import error_response

log = logging.getLogger(__name__)

# Error codes used by the API besides the generic ones of web/errors.MESSAGES.
QUERY_INVALID = "consulta_invalida"
EDIT_REFUSED = "edicion_rechazada"
DB_DOWN = "base_de_datos_no_disponible"
STORAGE_DOWN = "almacenamiento_no_disponible"
INDEX_DOWN = "indice_no_disponible"
BODY_TOO_LARGE = "cuerpo_demasiado_grande"  # a JSON body, not a file: its own limit

DB_MESSAGE = ("La base de datos no responde en este momento; intente de nuevo en unos minutos "
              "o avise al administrador.")
STORAGE_MESSAGE = ("El almacenamiento de archivos no responde en este momento; intente de nuevo "
                   "en unos minutos o avise al administrador.")
# A client of the API cannot run server commands: say who can fix it, not how.
MISSING_OBJECT_MESSAGE = ("El archivo no está en el almacenamiento. Avise al administrador para "
                          "que lo reponga desde la copia de seguridad.")

# Status per RejectedInput code; the rest of its codes are bad content (422).
REJECTED_STATUS = {"tamano": 413, "tipo": 415}


def _cause(exc: StorageError) -> str:
    """The store's own Spanish reason (a full disk, a refused connection), without the
    credentials an S3 URL may carry."""
    text = str(exc)
    return re.sub(r"s3://[^@\s]*@", "s3://***@", text)


def fail(status: int, message: str, code: str | None = None) -> NoReturn:
    """Stop the view with this status and Spanish message (``code`` overrides the default)."""
    exc = default_exceptions[status](description=message)
    exc.archivo_code = code  # type: ignore[attr-defined] - read by web/errors.py
    raise exc


def register_error_handlers(bp: Blueprint) -> None:
    """Blueprint handlers run before the app's, for errors raised in API requests."""

    @bp.errorhandler(QueryError)
    def query_error(exc: QueryError) -> Response:
        return error_response(400, str(exc), QUERY_INVALID)

    @bp.errorhandler(EditRefused)
    def edit_refused(exc: EditRefused) -> Response:
        return error_response(409, str(exc), EDIT_REFUSED)

    @bp.errorhandler(RejectedInput)
    def rejected(exc: RejectedInput) -> Response:
        return error_response(REJECTED_STATUS.get(exc.code, 422), str(exc))

    @bp.errorhandler(ObjectNotFound)
    def missing_object(exc: ObjectNotFound) -> Response:
        log.error("objeto faltante en el almacenamiento: %s", exc.key)
        return error_response(404, MISSING_OBJECT_MESSAGE)

    @bp.errorhandler(StorageError)
    def storage_down(exc: StorageError) -> Response:
        log.error("almacenamiento no disponible: %s", exc)
        return _unavailable(f"{STORAGE_MESSAGE} Causa: {_cause(exc)}", STORAGE_DOWN)

    @bp.errorhandler(IndexUnavailable)
    def index_down(exc: IndexUnavailable) -> Response:
        log.error("búsqueda no disponible: %s", exc)  # commands and folders are for the operator
        return _unavailable(PEOPLE_MESSAGE, INDEX_DOWN)

    @bp.errorhandler(ConfigError)
    def config_error(exc: ConfigError) -> Response:
        log.error("configuración inválida: %s", exc)
        return _unavailable(str(exc))

    # The DBAPI family: server down, connection lost, pool exhausted, database locked.
    @bp.errorhandler(sa_exc.OperationalError)
    @bp.errorhandler(sa_exc.InterfaceError)
    @bp.errorhandler(sa_exc.DisconnectionError)
    @bp.errorhandler(sa_exc.TimeoutError)
    def database_down(exc: Exception) -> Response:
        log.error("base de datos no disponible: %s", exc)
        return _unavailable(DB_MESSAGE, DB_DOWN)


def _unavailable(message: str, code: str | None = None) -> Response:
    resp = error_response(503, message, code)
    resp.headers["Retry-After"] = "60"
    return resp
