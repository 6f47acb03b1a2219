"""Flask application factory; each concern is a blueprint in its own module."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, has_request_context, request
from markupsafe import Markup, escape
from werkzeug.middleware.proxy_fix import ProxyFix

from archive import __version__
from archive.accounts import SESSION_LIFETIME
from archive.config import Settings, load_settings
from archive.localtime import fmt_date, fmt_datetime
from archive.services import Services

log = logging.getLogger(__name__)


class ArchivoApp(Flask):
    """Flask with absolute URLs taken from ARCHIVO_BASE_URL when it is set, never from
    the request's Host header (which a client writes)."""

    public_url: str | None = None

    def url_for(self, endpoint: str, *, _anchor: str | None = None, _method: str | None = None,
                _scheme: str | None = None, _external: bool | None = None,
                **values: Any) -> str:
        external = _external if _external is not None else _scheme is not None
        if not (self.public_url and external and has_request_context()):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method, **values)
        root = request.script_root
        if root and path.startswith(root):  # the public URL already names the prefix
            path = path[len(root):]
        return self.public_url + path


def create_app(services: Services | None = None, *, warm_search: bool | None = None) -> Flask:
    """The web application. ``warm_search``: read the search index's columns in the
    background now (by default when the app builds its own services, as under gunicorn)."""
    if warm_search is None:
        warm_search = services is None
    services = services or Services(load_settings())
    app = ArchivoApp(__name__)
    app.public_url = services.settings.public_url
    app.config.update(
        SECRET_KEY=services.secret_key,
        SESSION_COOKIE_NAME="archivo_sesion",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=services.settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=services.settings.max_file_bytes + 1024 * 1024,
    )
    app.extensions["archivo"] = services
    _trust_proxies(app, services.settings.proxies)

    # Imported here, not at the top: every page module imports ``services_of`` from here.
    from . import (admin, api, auth, batches, bodies, converters, dashboard, dispatch_pages,
                   documents, errors, health, nav, objects, pages, physical, review, search_pages,
                   security, supplies, upload)

    converters.register(app)  # before the blueprints: their <int:...> rules bind to it
    # One module per page family, each exposing ``bp``; the API is the package ``web/api``.
    for module in (health, objects, pages, auth, dashboard, search_pages, documents, supplies,
                   upload, review, admin, dispatch_pages, physical, batches, api):
        app.register_blueprint(module.bp)
    errors.register(app)
    app.before_request(_host_checker(services.settings.trusted_hosts))
    app.before_request(bodies.bound_body)  # before the CSRF check reads the form
    app.before_request(security.enforce_access)
    app.after_request(_security_headers(_content_policy(services.settings)))
    app.after_request(security.no_store)
    app.jinja_env.filters.update(fecha=fmt_date, fecha_hora=fmt_datetime)
    app.jinja_env.globals.update(nav.template_globals(app), version=__version__,
                                 csrf_token=security.csrf_token, csrf_field=_csrf_field)
    security.check_declared(app)
    if warm_search:
        from search import warm_up_in_background

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


def request_host_name(host: str) -> str:
    """``Host`` header -> lower-case name without port (``[::1]:5000`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def host_allowed(host: str, trusted: frozenset[str] | None) -> bool:
    """Whether a request may name ``host``; ``.dominio`` in the list admits its subdomains."""
    if trusted is None:
        return True
    name = request_host_name(host)
    return name in trusted or any(t.startswith(".") and name.endswith(t) for t in trusted)


def _host_checker(trusted: frozenset[str] | None) -> Any:
    """``before_request``: refuse a Host (or, behind ARCHIVO_PROXIES, X-Forwarded-Host) that
    is not ours, so no answer, link or audit entry carries a name a client made up. Our
    own check rather than Flask's TRUSTED_HOSTS: werkzeug's list cannot name an IPv6
    address, and its refusal comes before the error page can be drawn."""
    def check() -> None:
        if not host_allowed(request.host, trusted):
            log.warning("pedido con el nombre de sitio «%s» rechazado: si es legítimo, "
                        "agréguelo a ARCHIVO_HOSTS", request_host_name(request.host)[:100])
            abort(400, description="Este servidor no atiende ese nombre de sitio. Entre por la "
                                   "dirección habitual de archivo; si la que usó debería "
                                   "funcionar, avise al administrador.")
    return check


def _content_policy(settings: Settings) -> str:
    """The CSP: images only from us, data:/blob: (previews) and, on S3, the presigned links."""
    images = " ".join(("'self'", "data:", "blob:", *settings.s3_origins))
    return (f"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def waitress_options(settings: Settings) -> dict[str, object]:
    """Options for ``waitress.serve``: waitress strips X-Forwarded-* itself unless told
    not to, which would leave ProxyFix nothing to read behind nginx."""
    return {"clear_untrusted_proxy_headers": settings.proxies == 0}


def _csrf_field() -> Markup:
    from .security import CSRF_FIELD, csrf_token

    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def _security_headers(policy: str) -> Any:
    def add(resp):  # type: ignore[no-untyped-def]
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", policy)
        return resp
    return add


def services_of(app: Flask) -> Services:
    return app.extensions["archivo"]
