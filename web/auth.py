"""Sign in and out, change the password, manage one's own API tokens."""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from sqlalchemy import select
from werkzeug.wrappers import Response

from archive import audit
from archive.accounts import (LoginRefused, Principal, authenticate, change_password,
                              create_token, end_web_session, open_web_session,
                              recent_sign_ins, revoke_token)
from archive.db import session_scope
from archive.errors import ArchivoError
from archive.models import ApiToken, User

from . import services_of
from .ratelimit import SlidingWindow
from .security import current_user, login_session, public, requires, safe_next

bp = Blueprint("auth", __name__)

# Failed sign-ins one address may make in LOGIN_SECONDS (per account: archive.accounts).
LOGIN_LIMIT, LOGIN_SECONDS = 20, 300


def login_window() -> SlidingWindow:
    """Failures per client address; one window per app, so apps (and tests) do not share counts."""
    return current_app.extensions.setdefault(  # type: ignore[no-any-return]
        "archivo_login_window", SlidingWindow(limit=LOGIN_LIMIT, seconds=LOGIN_SECONDS))


@bp.route("/ingresar", methods=["GET", "POST"])
@public
def login() -> str | Response:
    target = request.values.get("siguiente")
    if request.method == "GET":
        if current_user():
            return redirect(safe_next(target))
        return render_template("login.html", siguiente=target or "")
    address = request.remote_addr or "?"  # the client's, behind ARCHIVO_PROXIES proxies
    if login_window().blocked(address):
        abort(429, description="Demasiados intentos fallidos de ingreso desde esta dirección; "
                               "espere cinco minutos.")
    username = request.form.get("usuario", "")
    password = request.form.get("contrasena", "")
    error = None
    with session_scope(services_of(current_app).sessions) as db:
        try:  # caught inside the transaction, so the failure count is committed
            user = authenticate(db, username, password)
            principal = Principal.of(user)
            sid = open_web_session(db, user)
            audit.record(db, principal.username, "usuario.ingresar", "usuario",
                         principal.username, {"ip": request.remote_addr or ""})
        except LoginRefused as exc:
            error = str(exc)
    if error:
        login_window().hit(address)  # only failures: a shift signing in is not an attack
        typed = "".join(c for c in username if c.isprintable())[:80]
        return render_template("login.html", error=error, usuario=typed,
                               siguiente=target or ""), 401  # type: ignore[return-value]
    login_session(principal, sid)
    return redirect(safe_next(target))


@bp.post("/salir")
@requires()
def logout() -> Response:
    """End the session on the server too: a copy of the cookie opens nothing afterwards."""
    sid = session.get("sid")
    if isinstance(sid, str):
        with session_scope(services_of(current_app).sessions) as db:
            end_web_session(db, sid)
    session.clear()
    flash("Sesión cerrada.")
    return redirect(url_for("auth.login"))


def _me(db):  # type: ignore[no-untyped-def]
    principal = current_user()
    assert principal is not None
    return db.get(User, principal.id)


@bp.get("/cuenta")
@requires()
def account() -> str:
    return _account_page()


def _account_page(new_secret: str | None = None) -> str:
    with session_scope(services_of(current_app).sessions) as db:
        user = _me(db)
        tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                            .order_by(ApiToken.created_at.desc())).all()
        return render_template("cuenta.html", user=user, tokens=tokens, new_secret=new_secret,
                               sign_ins=recent_sign_ins(db, user.username))


@bp.post("/cuenta/contrasena")
@requires()
def password() -> Response:
    new = request.form.get("nueva", "")
    if new != request.form.get("repetir", ""):
        flash("La contraseña nueva y su repetición no coinciden.", "error")
        return redirect(url_for("auth.account"))
    revoke = request.form.get("revocar_tokens") == "1"
    try:
        with session_scope(services_of(current_app).sessions) as db:
            user = _me(db)
            revoked = change_password(db, user, request.form.get("actual", ""), new,
                                      revoke_tokens=revoke)
            principal = Principal.of(user)
            sid = open_web_session(db, user)
    except ArchivoError as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    login_session(principal, sid)  # this browser goes on in a new session; all others end
    flash("Contraseña cambiada. Las otras sesiones abiertas se cerraron."
          + (f" Tokens de acceso revocados: {revoked}." if revoke else ""))
    return redirect(url_for("auth.account"))


@bp.post("/cuenta/tokens")
@requires()
def new_token() -> str | Response:
    try:
        with session_scope(services_of(current_app).sessions) as db:
            user = _me(db)
            _, secret = create_token(db, user, request.form.get("nombre", ""),
                                     actor=user.username)
    except ArchivoError as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    # Shown once, in this answer only: never in the session cookie (signed, not encrypted).
    return _account_page(new_secret=secret)


@bp.post("/cuenta/tokens/<int:token_id>/revocar")
@requires()
def revoke(token_id: int) -> Response:
    with session_scope(services_of(current_app).sessions) as db:
        user = _me(db)
        token = db.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            abort(404, description="Ese token no existe.")
        revoke_token(db, token, actor=user.username)
    flash("Token revocado: ya no da acceso.")
    return redirect(url_for("auth.account"))
