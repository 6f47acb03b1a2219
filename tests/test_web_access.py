"""Every registered route refuses anonymous and under-privileged requests.

The sweep builds a URL for every rule (with placeholder arguments), then
calls it with each HTTP method it accepts: as nobody, and as each role the
view does not admit. Refusal means 401/302-to-login for nobody and 403 for
a wrong role; a 404 for a placeholder id would hide a missing check, so the
check runs before the view and the sweep asserts the exact codes.
"""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import Rule

from archive.enums import Role
from web.security import PUBLIC, access_of, role_allowed

PLACEHOLDERS = {"int": "1", "string": "1234567", "path": "a/b", "default": "1"}


def _url(rule: Rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        conv = type(rule._converters[arg]).__name__.lower().replace("converter", "")  # type: ignore[attr-defined]
        value = PLACEHOLDERS.get(conv, PLACEHOLDERS["default"])
        url = url.replace(f"<{arg}>", value)
        for prefix in ("int", "string", "path", "float", "any", "uuid"):
            url = url.replace(f"<{prefix}:{arg}>", value)
    return url


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, _url(rule)))
    return out


def test_app_refuses_a_view_without_declaration() -> None:
    from flask import Blueprint

    from web.security import check_declared

    bp = Blueprint("sin_control", __name__)
    bp.add_url_rule("/sin-control", "x", lambda: "x")
    app = Flask("t")
    app.register_blueprint(bp)
    with pytest.raises(RuntimeError, match="sin_control.x"):
        check_declared(app)


def test_anonymous_requests_are_refused(app: Flask) -> None:
    client = app.test_client()
    checked = 0
    for endpoint, method, url in _routes(app):
        if access_of(app, endpoint) == PUBLIC:
            continue
        res = client.open(url, method=method)
        if url.startswith("/api/") or method != "GET":
            assert res.status_code == 401, (endpoint, method, url, res.status_code)
        else:
            assert res.status_code == 302 and "/ingresar" in res.headers["Location"], (
                endpoint, method, url, res.status_code)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.ADMIN])
def test_under_privileged_roles_are_refused(app: Flask, client_as, role: str) -> None:  # type: ignore[no-untyped-def]
    client, token = client_as(role)
    refused: list[tuple[str, str]] = []
    for endpoint, method, url in _routes(app):
        access = access_of(app, endpoint)
        if role_allowed(access, role):
            continue
        res = client.open(url, method=method, headers={"X-CSRFToken": token})
        assert res.status_code == 403, (role, endpoint, method, url, res.status_code)
        refused.append((endpoint, method))
    # Read from the declarations, not through role_allowed: a role_allowed that let everyone
    # through would leave nothing to sweep and pass silently.
    not_for_role = [(endpoint, method) for endpoint, method, _ in _routes(app)
                          if isinstance(access := access_of(app, endpoint), frozenset)
                          and role not in access]
    assert sorted(refused) == sorted(not_for_role)
    assert len(refused) >= 5, (role, refused)
