"""Signing in, lockout, password change, sessions, CSRF, API tokens."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from archive.accounts import LOCK_MINUTES, MAX_FAILURES, LoginRefused, authenticate
from archive.db import session_scope
from archive.models import AuditEvent, User
from archive.services import Services
from tests.web_support import PASSWORD, ROLE_USERS, csrf_of, sign_in


def test_login_sets_hardened_cookie_and_logout_ends_it(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, ROLE_USERS["consulta"])
    cookie = client.get_cookie("archivo_sesion")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    page = client.get("/cuenta")
    assert page.status_code == 200 and "u_consulta" in page.get_data(as_text=True)
    token = csrf_of(page.get_data(as_text=True))
    assert client.post("/salir", data={"csrf_token": token}).status_code == 302
    assert client.get("/cuenta").status_code == 302  # back to the login page


def test_secure_cookie_flag_follows_https_base_url(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_services
    from web import create_app

    svc = make_services(tmp_path / "v", ARCHIVO_BASE_URL="https://archivo.ande.example")
    assert create_app(svc).config["SESSION_COOKIE_SECURE"] is True


def test_wrong_password_is_refused_in_spanish(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": "u_consulta", "contrasena": "mala",
                                         "csrf_token": token})
    assert res.status_code == 401
    assert "Usuario o contraseña incorrectos" in res.get_data(as_text=True)


def test_account_locks_after_repeated_failures(app: Flask, services: Services) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    for _ in range(MAX_FAILURES):
        client.post("/ingresar", data={"usuario": "u_consulta", "contrasena": "mala",
                                       "csrf_token": token})
    res = client.post("/ingresar", data={"usuario": "u_consulta", "contrasena": PASSWORD,
                                         "csrf_token": token})
    assert res.status_code == 401 and "bloqueada" in res.get_data(as_text=True)
    with session_scope(services.sessions) as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "usuario.bloquear"))
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=LOCK_MINUTES + 1)
        assert authenticate(db, "u_consulta", PASSWORD, now=later).username == "u_consulta"


def test_login_rate_limited_per_address(app: Flask) -> None:
    from web.auth import LOGIN_LIMIT

    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    codes = [client.post("/ingresar", data={"usuario": f"nadie{i}", "contrasena": "x",
                                            "csrf_token": token}).status_code
             for i in range(LOGIN_LIMIT + 1)]
    assert codes[:-1] == [401] * LOGIN_LIMIT and codes[-1] == 429


def test_inactive_user_cannot_sign_in(services: Services, app: Flask) -> None:
    with session_scope(services.sessions) as db:
        db.scalar(select(User).where(User.username == "u_consulta")).active = False
    with session_scope(services.sessions) as db:
        try:
            authenticate(db, "u_consulta", PASSWORD)
        except LoginRefused as exc:
            assert "desactivada" in str(exc)
        else:
            raise AssertionError("an inactive account signed in")


def test_password_change_ends_other_sessions(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    token = sign_in(first, "u_archivista")
    sign_in(second, "u_archivista")
    new = "otra-clave-segura-456"
    res = first.post("/cuenta/contrasena", data={"actual": PASSWORD, "nueva": new,
                                                  "repetir": new, "csrf_token": token})
    assert res.status_code == 302
    assert first.get("/cuenta").status_code == 200
    assert second.get("/cuenta").status_code == 302  # its session version is stale
    fresh = app.test_client()
    sign_in(fresh, "u_archivista", new)


def test_csrf_required_on_every_form_post(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "u_consulta")
    res = client.post("/cuenta/tokens", data={"nombre": "x"})
    assert res.status_code == 400 and "CSRF" in res.get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.post("/ingresar", data={"usuario": "u_consulta",
                                             "contrasena": PASSWORD}).status_code == 400


def test_open_redirect_refused(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": "u_consulta", "contrasena": PASSWORD,
                                         "csrf_token": token, "siguiente": "//malo.example/x"})
    assert res.status_code == 302 and "malo.example" not in res.headers["Location"]
    for crafted in ("/\t/malo.example", "/\n/malo.example", "/\\malo.example",
                    "https://malo.example", "/ /malo.example"):
        res = client.get("/ingresar", query_string={"siguiente": crafted})
        assert res.status_code == 302 and "malo.example" not in res.headers["Location"], crafted
    assert client.get("/ingresar?siguiente=/cuenta").headers["Location"].endswith("/cuenta")


def test_api_token_lifecycle(app: Flask, services: Services) -> None:
    client = app.test_client()
    token = sign_in(client, "u_consulta")
    made = client.post("/cuenta/tokens", data={"nombre": "sistema comercial", "csrf_token": token})
    page = made.get_data(as_text=True)
    secret = page.split('<code class="secreto">', 1)[1].split("<", 1)[0]
    assert secret.startswith("arc_")
    assert secret not in client.get("/cuenta").get_data(as_text=True)  # shown once only
    with client.session_transaction() as sess:  # and never kept in the (readable) cookie
        assert secret not in str(dict(sess))

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/cuenta", headers=bearer).status_code == 200
    # a token request needs no CSRF token: no cookie is involved
    assert api.post("/cuenta/tokens", data={"nombre": "otro"}, headers=bearer).status_code == 200
    bad = api.get("/cuenta", headers={"Authorization": "Bearer arc_falso"})
    assert bad.status_code == 401

    with session_scope(services.sessions) as db:
        from archive.models import ApiToken

        first = db.scalar(select(ApiToken).where(ApiToken.name == "sistema comercial"))
        assert first.token_hash != secret and first.last_used_at is not None
        token_id = first.id
    client.post(f"/cuenta/tokens/{token_id}/revocar", data={"csrf_token": token})
    assert api.get("/cuenta", headers=bearer).status_code == 401
