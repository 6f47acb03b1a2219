"""Flask application factory; each concern is a blueprint in its own module."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from markupsafe import Markup, escape
from werkzeug.middleware.proxy_fix import ProxyFix

from archive import __version__
from archive.config import Settings, load_settings
from archive.localtime import fmt_date, fmt_datetime
from archive.services import Services

# One module per page family, each exposing ``bp``; the API is the package ``web/api``.
BLUEPRINT_MODULES = ("health", "objects", "pages", "auth", "dashboard", "search_pages",
                     "documents", "supplies", "upload", "review", "admin", "dispatch_pages",
                     "physical", "batches", "api")


def create_app(services: Services | None = None, *, warm_search: bool | None = None) -> Flask:
    """The web application. ``warm_search``: read the search index's columns in the
    background now (by default when the app builds its own services, as under gunicorn)."""
    if warm_search is None:
        warm_search = services is None
    services = services or Services(load_settings())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=services.secret_key,
        SESSION_COOKIE_NAME="archivo_sesion",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=services.settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        MAX_CONTENT_LENGTH=services.settings.max_file_bytes + 1024 * 1024,
    )
    app.extensions["archivo"] = services
    _trust_proxies(app, services.settings.proxies)

    from importlib import import_module

    from . import errors, nav, security

    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
    errors.register(app)
    app.before_request(security.enforce_access)
    app.after_request(_security_headers)
    app.jinja_env.filters.update(fecha=fmt_date, fecha_hora=fmt_datetime)
    app.jinja_env.globals.update(nav.template_globals(app), version=__version__,
                                 csrf_token=security.csrf_token, csrf_field=_csrf_field)
    security.check_declared(app)
    if warm_search:
        from search.query import warm_up_in_background

        warm_up_in_background(services)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind nginx every peer is 127.0.0.1: believe the last ``hops`` X-Forwarded-For/
    Proto/Host/Port entries, so the rate limit, the audit, /healthz and the API's absolute
    URLs see the real client and public host. With 0 those headers are ignored (a client
    could forge them)."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops, x_port=hops)


def waitress_options(settings: Settings) -> dict[str, object]:
    """Options for ``waitress.serve``: waitress strips X-Forwarded-* itself unless told
    not to, which would leave ProxyFix nothing to read behind nginx."""
    return {"clear_untrusted_proxy_headers": settings.proxies == 0}


def _csrf_field() -> Markup:
    from .security import CSRF_FIELD, csrf_token

    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def _security_headers(resp):  # type: ignore[no-untyped-def]
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: *; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    return resp


def services_of(app: Flask) -> Services:
    return app.extensions["archivo"]
