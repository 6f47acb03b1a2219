"""``GET /healthz``: one JSON answer on every part the service needs."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Callable

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from archive.db import Writers, check_database, check_writers, read_scope
from archive.errors import ArchivoError
from archive.migrate import is_current
from archive.queue import backlog, check_queue
from ingest import missing_capabilities
from search import check_index

from . import services_of
from .security import current_user, public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


Details = dict[str, object]  # shown, like error details, only locally or signed in
WARNING = "aviso"  # a check may return {"estado": WARNING, ...}: degraded, still HTTP 200

# A write waiting this long for SQLite's lock is already a failure people notice; the probe
# waits at most this long.
WRITE_WAIT_S = 3.0
PROBE_TTL_S = 5.0  # one write-lock probe answers every /healthz call for this long
LONG_TRANSACTION_S = 60.0  # PostgreSQL: a transaction open this long holds locks and rows
STALE_WAIT = dt.timedelta(minutes=30)  # oldest «recibido» document: the queue is not moving


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
    ARCHIVO_INDEXADOR=dedicado means «archivo indexador» is not running); and whether the
    documents themselves move: the messages are only wake-ups, the rows are the jobs."""
    svc = services_of(current_app)
    details: Details = {"pendientes": {"documentos": check_queue(svc.huey),
                                       "indice": check_queue(svc.index_huey)}}
    try:
        with read_scope(svc.sessions) as db:
            late = backlog(db, lease_s=svc.settings.lease_s)
    except SQLAlchemyError:  # the database part reports it; the queue itself answered
        return details
    warnings = []
    if late.abandoned:
        warnings.append(f"{late.abandoned} documento(s) en «procesando» con el plazo de trabajo "
                        "vencido hace rato: ningún proceso de trabajo los retoma.")
    if late.oldest_wait is not None and late.oldest_wait > STALE_WAIT:
        warnings.append(f"El documento en espera más antiguo llegó hace "
                        f"{_minutes(late.oldest_wait)} min: la cola no avanza o está muy cargada.")
    if warnings:
        details.update(estado=WARNING, avisos=warnings)
    return details


def _minutes(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 60)


_probe_lock = threading.Lock()
_last_probe: dict[str, tuple[float, Writers]] = {}  # database URL -> (when, what it found)


def _writers(engine: Engine) -> Writers:
    """The write-lock probe, at most one at a time and reused for ``PROBE_TTL_S``: /healthz
    is public, and each probe may wait ``WRITE_WAIT_S``; callers arriving meanwhile get the
    last answer instead of occupying a server thread each."""
    key = str(engine.url)
    last = _last_probe.get(key)
    if last is not None and time.monotonic() - last[0] < PROBE_TTL_S:
        return last[1]
    if not _probe_lock.acquire(blocking=False):
        return last[1] if last is not None else Writers()  # a probe is running right now
    try:
        found = check_writers(engine, wait_s=WRITE_WAIT_S, long_s=LONG_TRANSACTION_S)
        _last_probe[key] = (time.monotonic(), found)
        return found
    finally:
        _probe_lock.release()


def _writing() -> Details:
    """A writer holding SQLite's lock makes every change wait or fail while reads still
    answer: the database check alone would keep saying ok."""
    writers = _writers(services_of(current_app).engine)
    if writers.blocked:
        raise ArchivoError(f"Otra operación tiene tomada la base de datos para escritura desde "
                           f"hace más de {WRITE_WAIT_S:g} s: los cambios esperan o fallan. "
                           "Revise si sigue en curso una importación o una edición grande.")
    if writers.waiting_on_locks:
        return {"estado": WARNING, "esperando_bloqueos": writers.waiting_on_locks,
                "avisos": [f"{writers.waiting_on_locks} sesión(es) de la base de datos esperan "
                           "un bloqueo que tiene otra: los cambios se demoran."]}
    if writers.long_transactions:
        oldest = int(writers.oldest_s or 0)
        return {"estado": WARNING, "transacciones_largas": writers.long_transactions,
                "avisos": [f"{writers.long_transactions} transacción(es) abierta(s) hace más de "
                           f"{LONG_TRANSACTION_S:g} s (la más antigua, {oldest} s): retienen "
                           "bloqueos de la base de datos."]}
    return {}


def _capabilities() -> Details:
    """A missing optional piece degrades a feature, not the service: a warning, still 200."""
    missing = missing_capabilities()
    return {"estado": WARNING, "faltan": [m.sentence() for m in missing]} if missing else {}


CHECKS: dict[str, Callable[[], Details]] = {
    "base_de_datos": _database,
    "escritura": _writing,
    "almacenamiento": _storage,
    "indice": _index,
    "cola": _queue,
    "capacidades": _capabilities,
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
            state = str(details.pop("estado", "ok"))
            parts[name] = {"estado": state, **(details if show_details else {})}
        except Exception as exc:  # a health probe must report, never raise
            healthy = False
            message = str(exc) if isinstance(exc, ArchivoError) else f"{type(exc).__name__}: {exc}"
            log.warning("healthz: %s no responde: %s", name, message)
            parts[name] = {"estado": "error"}
            if show_details:  # paths and hosts only for people signed in, and on this machine
                parts[name]["detalle"] = message
    body = {"estado": "ok" if healthy else "error", "partes": parts}
    return jsonify(body), 200 if healthy else 503
