"""The supply file page (ficha del suministro) and manual linking from it.

The data comes from :func:`archive.registry.supply_file.load_supply_file`, the
same read model the HTTP API and the CLI use; this module only adds the
dispatches (the core may not import the ``dispatch`` package) and renders.
Archivists link a document to the supply by its archive number and unlink it,
through ``archive.editing`` (audited, marks the document for re-indexing),
then wake the indexer once the transaction has committed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from sqlalchemy import select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from archive.accounts import Principal
from archive.db import read_scope, session_scope
from archive.editing import link_nis, unlink_nis
from archive.enums import Role
from archive.localtime import fmt_date, fmt_datetime
from archive.errors import ArchivoError
from archive.models import Document
from archive.nis import normalize_nis
from archive.registry.models import SupplyAlias
from archive.registry.supply_file import SupplyFile, load_supply_file, summarize_dispatches
from archive.services import Services

from . import services_of
from .edits import wake_indexer
from .security import access_of, current_user, requires, role_allowed

log = logging.getLogger(__name__)

bp = Blueprint("supplies", __name__)

VIEWERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
EDITORS = (Role.ARCHIVISTA,)  # admin passes every check


# --------------------------------------------------------------------------- shared helpers
# (also used by web/review.py)


# An instant as a clerk in Paraguay reads it (28/11/2026 12:56), and a day.
local_datetime = fmt_datetime
local_date = fmt_date


def endpoint_url(endpoint: str, **values: Any) -> str | None:
    """URL of a page another module provides, or None if it does not exist or the user's
    role may not open it (so no link leads to a refusal)."""
    user = current_user()
    if endpoint not in current_app.view_functions or not role_allowed(
            access_of(current_app, endpoint), user.role if user else None):
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:  # the page exists but takes other arguments
        return None


def document_url(doc_id: int) -> str | None:
    return endpoint_url("documents.view", doc_id=doc_id)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"fecha_hora": local_datetime, "fecha": local_date, "document_url": document_url}


# --------------------------------------------------------------------------- data


def supply_file_for(services: Services, nis: str, user: Principal) -> SupplyFile | None:
    """The supply file with the dispatches that carried its documents, as ``user`` may see them.

    Other layers (the HTTP API) can call this to get ``despachos`` in ``as_dict()``.
    Raises ArchivoError (Spanish) when ``nis`` is not a NIS.
    """
    with read_scope(services.sessions) as db:
        file = load_supply_file(db, nis)
    if file is not None:
        attach_dispatches(services, file, user.username, user.role, user.regional_unit_id)
    return file


def attach_dispatches(services: Services, file: SupplyFile, username: str, role: str,
                      regional_unit_id: int | None = None) -> None:
    """Fill ``file.dispatches`` from the dispatch package (left ``None`` if it is not installed)."""
    try:
        from dispatch import Actor, dispatches_for_supply
    except ImportError:
        return
    actor = Actor(username, Role(role), regional_unit_id)
    file.dispatches = summarize_dispatches(dispatches_for_supply(services, actor, file.nis),
                                           file.document_ids)


def _can_edit() -> bool:
    user = current_user()
    return user is not None and user.role in (Role.ADMIN.value, *(r.value for r in EDITORS))


def _clean_nis(nis: str) -> str:
    try:
        return normalize_nis(nis)
    except ArchivoError as exc:
        abort(404, description=str(exc))


# --------------------------------------------------------------------------- pages


def _lookup_page(asked: str, error: str, status: int) -> tuple[str, int]:
    """The lookup form again, with what was typed and why it led nowhere (no dead end)."""
    return render_template("suministro.html", file=None, asked=asked, error=error,
                           can_edit=False), status


@bp.get("/suministros")
@requires(*VIEWERS)
def lookup() -> str | Response | tuple[str, int]:
    """The lookup form; with ``?nis=`` it opens that supply's file."""
    asked = (request.args.get("nis") or "").strip()
    if asked:
        try:
            return redirect(url_for("supplies.view", nis=normalize_nis(asked)))
        except ArchivoError as exc:
            return _lookup_page(asked, str(exc), 422)
    return _lookup_page("", "", 200)


@bp.get("/suministros/<nis>")
@requires(*VIEWERS)
def view(nis: str) -> str | tuple[str, int]:
    user = current_user()
    assert user is not None
    try:
        clean = normalize_nis(nis)
    except ArchivoError as exc:
        return _lookup_page(nis, str(exc), 422)
    file = supply_file_for(services_of(current_app), clean, user)
    if file is None:
        return _lookup_page(clean, f"No hay datos del NIS {clean}: no figura en el padrón de "
                                   "suministros ni tiene documentos vinculados. Revise el "
                                   "número o busque sus documentos en el buscador.", 404)
    return render_template("suministro.html", file=file, asked=clean, error="",
                           can_edit=_can_edit(),
                           dispatch_url=lambda d: endpoint_url("dispatch_pages.detail",
                                                               dispatch_id=d.id))


def _current_nis(db: Any, nis: str) -> str:
    """A former NIS links to the one that replaced it (the page shows that file)."""
    return db.scalar(select(SupplyAlias.nis).where(SupplyAlias.old_nis == nis)) or nis


@bp.post("/suministros/<nis>/vincular")
@requires(*EDITORS)
def link(nis: str) -> Response:
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    clean = _clean_nis(nis)
    number = (request.form.get("numero") or "").strip().upper()
    target = clean
    try:
        if not number:
            raise ArchivoError("Escriba el número de archivo del documento (por ejemplo "
                               "ARC-2026-000123).")
        with session_scope(services.sessions) as db:
            target = _current_nis(db, clean)
            doc = db.scalar(select(Document).where(Document.archive_number == number))
            if doc is None:
                raise ArchivoError(f"No existe el documento con número de archivo «{number}».")
            done = link_nis(db, doc, target, actor=user.username)
    except ArchivoError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Documento {number} vinculado al NIS {target}." if done
              else f"El documento {number} ya estaba vinculado al NIS {target}.")
        if done:
            wake_indexer(services)
    return redirect(url_for("supplies.view", nis=target) + "#documentos")


@bp.post("/suministros/<nis>/desvincular/<int:doc_id>")
@requires(*EDITORS)
def unlink(nis: str, doc_id: int) -> Response:
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    clean = _clean_nis(nis)
    target = clean
    try:
        with session_scope(services.sessions) as db:
            target = _current_nis(db, clean)
            doc = db.get(Document, doc_id)
            if doc is None:
                abort(404, description=f"No existe el documento número {doc_id}.")
            number = doc.archive_number
            done = unlink_nis(db, doc, target, actor=user.username)
    except ArchivoError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Documento {number} desvinculado del NIS {target}." if done
              else f"El documento {number} no estaba vinculado al NIS {target}.")
        if done:
            wake_indexer(services)
    return redirect(url_for("supplies.view", nis=target) + "#documentos")
