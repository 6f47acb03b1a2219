"""Who may call what: every view declares its access, checked before it runs.

Fail closed: ``create_app`` refuses to start if a registered view declares
nothing (see ``check_declared``), and ``test_web_access`` walks every route
with each role. ``admin`` passes every role check; row-level rules (a
regional user sees only its own unit) are the views' own business.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any, Callable, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from archive.accounts import Principal, user_for_token, web_session_open
from archive.db import session_scope
from archive.enums import Role
from archive.models import User

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_archivo_access"
PUBLIC = "public"
SIGNED_IN = "signed_in"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"


def requires(*roles: Role) -> Callable[[F], F]:
    """Restrict a view to these roles (plus admin); with no roles, any signed-in user."""
    allowed: frozenset[str] | str = frozenset(r.value for r in roles) if roles else SIGNED_IN

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, allowed)
        return view
    return mark


def public(view: F) -> F:
    """Open to anonymous requests (login page, health check, signed object links)."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def access_of(app: Flask, endpoint: str) -> frozenset[str] | str | None:
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def check_declared(app: Flask) -> None:
    """Refuse to build an app with a view that says nothing about who may call it."""
    missing = sorted(e for e in app.view_functions if access_of(app, e) is None)
    if missing:
        raise RuntimeError(f"views without an access declaration: {', '.join(missing)}")


def role_allowed(access: frozenset[str] | str | None, role: str | None) -> bool:
    if access == PUBLIC:
        return True
    if role is None or access is None:
        return False
    return access == SIGNED_IN or role == Role.ADMIN.value or role in access


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_user() -> Principal | None:
    return g.get("user")


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _load_principal() -> Principal | None:
    from . import services_of

    token = _bearer_token()
    uid = session.get("uid")
    if token is None and uid is None:
        return None
    with session_scope(services_of(current_app).sessions) as db:
        if token is not None:
            user = user_for_token(db, token)
            return Principal.of(user, via_token=True) if user else None
        user = db.get(User, uid)
        sid = session.get("sid")
        if (user is None or not user.active or user.session_version != session.get("ver")
                or not isinstance(sid, str) or not web_session_open(db, user, sid)):
            session.clear()  # signed out, expired, password changed or deactivated
            return None
        return Principal.of(user)


def csrf_token() -> str:
    """The per-session token every form posts back (``{{ csrf_field() }}`` in templates)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def _csrf_ok() -> bool:
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    return bool(expected and sent and hmac.compare_digest(str(expected), str(sent)))


def enforce_access() -> Any:
    """``before_request``: authenticate, check the role, then CSRF for cookie sessions."""
    endpoint = request.endpoint
    if endpoint is None:  # 404/405 are answered by Flask itself
        return None
    g.user = _load_principal()
    if request.headers.get("Authorization") and g.user is None:
        abort(401, description="El token de acceso no es válido o fue revocado.")
    access = access_of(current_app, endpoint)
    if access != PUBLIC:
        if g.user is None:
            if is_api_request() or request.method not in SAFE_METHODS:
                abort(401, description="Debe iniciar sesión o enviar un token de acceso.")
            return redirect(url_for("auth.login", siguiente=request.full_path.rstrip("?")))
        if not role_allowed(access, g.user.role):
            abort(403, description="Su rol no tiene permiso para esta acción.")
    via_token = g.user is not None and g.user.via_token
    if request.method not in SAFE_METHODS and not via_token and not _csrf_ok():
        abort(400, description="El formulario venció o no es válido (protección CSRF). "
                               "Recargue la página e intente de nuevo.")
    return None


def login_session(principal: Principal, sid: str) -> None:
    """Start a fresh session (new CSRF token; nothing carried over from before login).
    ``sid`` is the server-side session (``archive.accounts.open_web_session``) that
    signing out ends."""
    session.clear()
    session.permanent = True
    session["uid"] = principal.id
    session["ver"] = principal.session_version
    session["sid"] = sid
    csrf_token()


def no_store(resp: Any) -> Any:
    """``after_request``: what a signed-in person or the API sees stays out of every cache
    (a shared computer's back button, a proxy); a view that chose a private cache
    (page images) keeps it; static files are not touched."""
    if request.endpoint == "static" or "private" in resp.headers.get("Cache-Control", ""):
        return resp
    if g.get("user") is not None or is_api_request():
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Pragma"] = "no-cache"
    return resp


def safe_next(target: str | None) -> str:
    """Only local paths: a crafted ``siguiente`` must not send the user elsewhere.

    Control characters are refused too: browsers and werkzeug drop a tab or a
    newline, so ``/\t/malo.example`` would become ``//malo.example``.
    """
    from urllib.parse import urlsplit

    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and all(" " < c != "\x7f" for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.landing")
