"""``GET /healthz``: one JSON answer on every part the service needs."""

from __future__ import annotations

import logging
from typing import Callable

from flask import Blueprint, current_app, jsonify, request

from archive.db import check_database
from archive.errors import ArchivoError
from archive.migrate import is_current
from archive.queue import check_queue
from ingest import capabilities
from search.index import check_index

from . import services_of
from .security import current_user, public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


Details = dict[str, object]  # shown, like error details, only locally or signed in


def _database() -> Details:
    svc = services_of(current_app)
    check_database(svc.engine)
    if not is_current(svc.engine):
        raise ArchivoError("La base de datos no está actualizada: ejecute «archivo init».")
    return {}


def _storage() -> Details:
    services_of(current_app).store.check()
    return {}


def _index() -> Details:
    check_index(services_of(current_app).settings.index_dir)
    return {}


def _queue() -> Details:
    """Both queues answer; how many messages wait on each (a growing index queue with
    ARCHIVO_INDEXADOR=dedicado means «archivo indexador» is not running)."""
    svc = services_of(current_app)
    return {"pendientes": {"documentos": check_queue(svc.huey),
                           "indice": check_queue(svc.index_huey)}}


CHECKS: dict[str, Callable[[], Details]] = {
    "base_de_datos": _database,
    "almacenamiento": _storage,
    "indice": _index,
    "cola": _queue,
}


@bp.get("/healthz")
@public
def healthz():  # type: ignore[no-untyped-def]
    parts: dict[str, dict[str, object]] = {}
    healthy = True
    show_details = current_user() is not None or request.remote_addr in ("127.0.0.1", "::1")
    for name, check in CHECKS.items():
        try:
            details = check()
            parts[name] = {"estado": "ok", **(details if show_details else {})}
        except Exception as exc:  # a health probe must report, never raise
            healthy = False
            message = str(exc) if isinstance(exc, ArchivoError) else f"{type(exc).__name__}: {exc}"
            log.warning("healthz: %s no responde: %s", name, message)
            parts[name] = {"estado": "error"}
            if show_details:  # paths and hosts only for people signed in, and on this machine
                parts[name]["detalle"] = message
    missing = capabilities.missing_capabilities()
    # A missing optional piece degrades a feature, not the service: a warning, still 200.
    parts["capacidades"] = ({"estado": "aviso", "faltan": [m.sentence() for m in missing]}
                            if missing else {"estado": "ok"})
    body = {"estado": "ok" if healthy else "error", "partes": parts}
    return jsonify(body), 200 if healthy else 503
