"""Administration pages (role ``admin``): users, API tokens, regional units, supply import.

Every change is audited: creation, passwords and token revocation by
``archive.users``/``archive.accounts``, regional units by
``archive.registry.regional_units``, imports by the importer;  role, unit,
activation and unlocking by ``archive.accounts``.

Secrets (a generated password) are shown in the response to the POST that
made them, never stored in the session cookie (Flask's cookie is signed,
not encrypted) and never shown again.

The supply import runs inside the request: the importer streams the file in
batches (about a minute per million rows on SQLite), so even a full export
finishes within a normal request; a crash or a dropped connection loses no
committed batch, and uploading the same file again resumes after the last
one. For the nightly full export the CLI (``archivo import-supplies``) is
still the better tool.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from archive.accounts import (change_role, is_locked, reset_password, set_active, unlock)
from archive.accounts import revoke_token as revoke_api_token
from archive.db import read_scope, session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.models import ApiToken, User, utcnow
from archive.registry import (ImportReport, add_regional_unit, import_supplies,
                              list_regional_units, update_regional_unit)
from archive.services import Services
from archive.users import create_user

from .bodies import accepts_files
from . import services_of
from .security import current_user, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


# ---------------------------------------------------------------- helpers

def _services() -> Services:
    return services_of(current_app)


def _me(session: Session) -> User:
    principal = current_user()
    assert principal is not None
    user = session.get(User, principal.id)
    assert user is not None
    return user


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404, description="Ese usuario no existe.")
    return user


def _users_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    services = _services()
    with read_scope(services.sessions) as db:
        users = db.scalars(select(User).options(selectinload(User.regional_unit))
                           .order_by(User.username)).all()
        now = utcnow()
        rows = [{"u": u, "bloqueado": is_locked(u, now)} for u in users]
        html = render_template("admin_usuarios.html", filas=rows, roles=Role.choices(),
                               unidades=list_regional_units(services), seccion="usuarios",
                               **extra)
    return html, status


def _parse_role(raw: str) -> Role:
    try:
        return Role.parse(raw)  # type: ignore[return-value]
    except ValueError as exc:
        raise ArchivoError(f"Rol inválido: {exc}")


# ---------------------------------------------------------------- users

@bp.get("/usuarios")
@requires(Role.ADMIN)
def users() -> tuple[str, int]:
    return _users_page()


@bp.post("/usuarios")
@requires(Role.ADMIN)
def create() -> tuple[str, int]:
    form = request.form
    try:
        with session_scope(_services().sessions) as db:
            actor = _me(db)
            user, password = create_user(
                db, form.get("usuario", ""), _parse_role(form.get("rol", "")),
                full_name=form.get("nombre", "").strip()[:200],
                regional_code=form.get("regional", "").strip().upper() or None,
                actor=actor.username)
            username = user.username
    except ArchivoError as exc:
        return _users_page(422, error=str(exc), valores=form)
    return _users_page(200, nueva_clave={"usuario": username, "clave": password,
                                         "motivo": "creado"})


@bp.post("/usuarios/<int:user_id>/rol")
@requires(Role.ADMIN)
def set_role(user_id: int) -> Response | tuple[str, int]:
    try:
        with session_scope(_services().sessions) as db:
            user = _target(db, user_id)
            changed = change_role(db, user, _parse_role(request.form.get("rol", "")),
                                  request.form.get("regional", ""), actor=_me(db))
            name = user.username
    except ArchivoError as exc:
        return _users_page(422, error=str(exc))
    flash(f"Rol de «{name}» actualizado." if changed else f"«{name}» no tenía cambios.")
    return redirect(url_for("admin.users"))


@bp.post("/usuarios/<int:user_id>/activo")
@requires(Role.ADMIN)
def activate(user_id: int) -> Response | tuple[str, int]:
    active = request.form.get("activo") == "1"
    try:
        with session_scope(_services().sessions) as db:
            user = _target(db, user_id)
            set_active(db, user, active, actor=_me(db))
            name = user.username
    except ArchivoError as exc:
        return _users_page(422, error=str(exc))
    flash(f"Cuenta «{name}» activada." if active else
          f"Cuenta «{name}» desactivada; sus sesiones abiertas se cerraron.")
    return redirect(url_for("admin.users"))


@bp.post("/usuarios/<int:user_id>/contrasena")
@requires(Role.ADMIN)
def password(user_id: int) -> tuple[str, int]:
    with session_scope(_services().sessions) as db:
        user = _target(db, user_id)
        new = reset_password(db, user, actor=_me(db))
        name = user.username
    return _users_page(200, nueva_clave={"usuario": name, "clave": new, "motivo": "restablecida"})


@bp.post("/usuarios/<int:user_id>/desbloquear")
@requires(Role.ADMIN)
def unlock_user(user_id: int) -> Response:
    with session_scope(_services().sessions) as db:
        user = _target(db, user_id)
        unlock(db, user, actor=_me(db).username)
        name = user.username
    flash(f"Cuenta «{name}» desbloqueada.")
    return redirect(url_for("admin.users"))


# ---------------------------------------------------------------- tokens of every user

@bp.get("/tokens")
@requires(Role.ADMIN)
def tokens() -> str:
    with read_scope(_services().sessions) as db:
        rows = db.scalars(select(ApiToken).options(selectinload(ApiToken.user))
                          .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
                          ).all()
        return render_template("admin_tokens.html", tokens=rows, seccion="tokens")


@bp.post("/tokens/<int:token_id>/revocar")
@requires(Role.ADMIN)
def revoke(token_id: int) -> Response:
    with session_scope(_services().sessions) as db:
        token = db.get(ApiToken, token_id)
        if token is None:
            abort(404, description="Ese token no existe.")
        revoke_api_token(db, token, actor=_me(db).username)
        label = f"«{token.name}» de {token.user.username}"
    flash(f"Token {label} revocado: ya no da acceso.")
    return redirect(url_for("admin.tokens"))


# ---------------------------------------------------------------- regional units

_UNIT_FIELDS = ("nombre", "ciudad", "direccion", "contacto")


@bp.get("/regionales")
@requires(Role.ADMIN)
def units() -> str:
    return render_template("admin_regionales.html", unidades=list_regional_units(_services()),
                           seccion="regionales", valores={})


@bp.post("/regionales")
@requires(Role.ADMIN)
def add_unit() -> Response | tuple[str, int]:
    form = request.form
    try:
        unit = add_regional_unit(_services(), form.get("codigo", ""), form.get("nombre", ""),
                                 city=form.get("ciudad", ""), address=form.get("direccion", ""),
                                 contact=form.get("contacto", ""), actor=_actor())
    except ArchivoError as exc:
        return render_template("admin_regionales.html", unidades=list_regional_units(_services()),
                               seccion="regionales", error=str(exc), valores=form), 422
    flash(f"Unidad regional {unit.code} ({unit.name}) agregada.")
    return redirect(url_for("admin.units"))


def _find_unit(code: str) -> Any:
    unit = next((u for u in list_regional_units(_services()) if u.code == code.strip().upper()),
                None)
    if unit is None:
        abort(404, description=f"No existe la unidad regional «{code}».")
    return unit


@bp.get("/regionales/<code>")
@requires(Role.ADMIN)
def unit(code: str) -> str:
    return render_template("admin_regional.html", unidad=_find_unit(code), seccion="regionales")


@bp.post("/regionales/<code>")
@requires(Role.ADMIN)
def edit_unit(code: str) -> Response | tuple[str, int]:
    form = request.form
    current = _find_unit(code)
    try:
        unit = update_regional_unit(
            _services(), current.code, new_code=form.get("codigo") or None,
            name=form.get("nombre"), city=form.get("ciudad"), address=form.get("direccion"),
            contact=form.get("contacto"), actor=_actor())
    except ArchivoError as exc:
        return render_template("admin_regional.html", unidad=current, error=str(exc),
                               valores=form, seccion="regionales"), 422
    flash(f"Unidad regional {unit.code} guardada.")
    return redirect(url_for("admin.units"))


def _actor() -> str:
    principal = current_user()
    assert principal is not None
    return principal.username


# ---------------------------------------------------------------- supply import

def import_dir(services: Services) -> Path:
    """A fresh folder under ``ARCHIVO_HOME/tmp`` with a generated name, for one upload."""
    root = services.settings.home / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"importacion-{secrets.token_hex(8)}"
    path.mkdir()
    return path


def run_upload_import(services: Services, upload: Any, mapping_upload: Any | None,
                      actor: str) -> ImportReport:
    """Save the upload (and optional TOML mapping), import it, and remove the copies.

    The file keeps its (sanitised) original name inside the generated folder
    so the audit trail and the resume record name what the person uploaded.
    """
    folder = import_dir(services)
    try:
        path = folder / (secure_filename(upload.filename or "") or "suministros.csv")
        upload.save(path)
        mapping_path = None
        if mapping_upload is not None and mapping_upload.filename:
            mapping_path = folder / "mapeo.toml"
            mapping_upload.save(mapping_path)
            try:
                mapping_path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ArchivoError("El archivo de mapeo debe estar en UTF-8 (texto TOML).")
        return import_supplies(services, path, mapping=mapping_path, actor=actor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@bp.get("/suministros/importar")
@requires(Role.ADMIN)
def supply_import() -> str:
    return render_template("admin_importar.html", seccion="importar")


@bp.post("/suministros/importar")
@accepts_files
@requires(Role.ADMIN)
def run_import() -> tuple[str, int]:
    upload = request.files.get("archivo")
    if upload is None or not upload.filename:
        return render_template("admin_importar.html", seccion="importar",
                               error="Elija el archivo exportado del sistema comercial "
                                     "(CSV o TXT)."), 400
    try:
        report = run_upload_import(_services(), upload, request.files.get("mapeo"), _actor())
    except ArchivoError as exc:
        return render_template("admin_importar.html", seccion="importar", error=str(exc)), 422
    return render_template("admin_importar.html", seccion="importar", informe=report,
                           archivo=upload.filename), 200
