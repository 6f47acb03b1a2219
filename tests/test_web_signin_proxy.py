"""Sign-in limits count failures only; behind ARCHIVO_PROXIES reverse proxies the client's
address, scheme and host come from X-Forwarded-*; with 0 those headers are ignored."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import MAX_FAILURES
from archive.db import session_scope
from archive.enums import Role
from archive.models import AuditEvent, User
from archive.services import Services
from archive.users import create_user
from tests.api_support import API, make_api_archive
from tests.conftest import make_services
from tests.web_support import PASSWORD, ROLE_USERS, add_users, csrf_of
from web import create_app, waitress_options
from web.auth import LOGIN_LIMIT

CLIENT = "203.0.113.7"  # documentation addresses (RFC 5737), never local
OTHER = "198.51.100.23"


def _post_login(client: FlaskClient, username: str, password: str,
                headers: dict[str, str] | None = None) -> int:
    token = csrf_of(client.get("/ingresar", headers=headers).get_data(as_text=True))
    return client.post("/ingresar", headers=headers, data={
        "usuario": username, "contrasena": password, "csrf_token": token}).status_code


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Services, Flask]]:
    """An archive served behind one trusted proxy (nginx, as in docs/despliegue.md)."""
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var", ARCHIVO_PROXIES="1")
    initialize(svc)
    add_users(svc)
    app = create_app(svc)
    app.config["TESTING"] = True
    yield svc, app
    svc.dispose()


def _ips_of_sign_ins(svc: Services) -> list[str]:
    with session_scope(svc.sessions) as db:
        return [ev.details["ip"] for ev in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "usuario.ingresar"))]


# ------------------------------------------------------------------ failures only


def test_a_shift_signing_in_from_one_address_is_not_limited(services: Services,
                                                            app: Flask) -> None:
    """An office behind one NAT address: more successful sign-ins than the limit, all pass."""
    with session_scope(services.sessions) as db:
        for i in range(30):
            create_user(db, f"turno{i}", Role.CONSULTA, password=PASSWORD)
    codes = [_post_login(app.test_client(), f"turno{i}", PASSWORD) for i in range(30)]
    assert 30 > LOGIN_LIMIT and codes == [302] * 30


def test_failures_from_one_address_are_limited_even_for_a_right_password(app: Flask) -> None:
    client = app.test_client()
    codes = [_post_login(client, f"nadie{i}", "x") for i in range(LOGIN_LIMIT)]
    assert codes == [401] * LOGIN_LIMIT
    res_code = _post_login(client, ROLE_USERS["consulta"], PASSWORD)
    assert res_code == 429  # the window is full: no more guesses from here, right or wrong


def test_refused_sign_in_says_why_in_spanish(app: Flask) -> None:
    client = app.test_client()
    for i in range(LOGIN_LIMIT):
        _post_login(client, f"nadie{i}", "x")
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": "x", "contrasena": "y", "csrf_token": token})
    assert res.status_code == 429
    assert "Demasiados intentos fallidos" in res.get_data(as_text=True)


def test_account_failures_lock_and_a_success_resets_them(services: Services, app: Flask) -> None:
    user = ROLE_USERS["consulta"]
    client = app.test_client()
    for _ in range(MAX_FAILURES - 1):
        assert _post_login(client, user, "mala") == 401
    assert _post_login(client, user, PASSWORD) == 302  # resets the account's count
    for _ in range(MAX_FAILURES - 1):
        assert _post_login(app.test_client(), user, "mala") == 401
    assert _post_login(app.test_client(), user, PASSWORD) == 302  # still not locked
    for _ in range(MAX_FAILURES):
        _post_login(app.test_client(), user, "mala")
    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": user, "contrasena": PASSWORD,
                                         "csrf_token": token})
    assert res.status_code == 401 and "bloqueada" in res.get_data(as_text=True)
    with session_scope(services.sessions) as db:
        locked = db.scalar(select(User).where(User.username == user))
        assert locked is not None and locked.locked_until is not None


# ------------------------------------------------------------------ trusted proxies


def test_behind_a_proxy_the_audit_records_the_forwarded_client(
        proxied: tuple[Services, Flask]) -> None:
    svc, app = proxied
    fwd = {"X-Forwarded-For": CLIENT}
    assert _post_login(app.test_client(), ROLE_USERS["consulta"], PASSWORD, fwd) == 302
    assert _ips_of_sign_ins(svc) == [CLIENT]


def test_behind_a_proxy_the_limit_is_per_forwarded_client(proxied: tuple[Services, Flask]) -> None:
    _, app = proxied
    attacker = {"X-Forwarded-For": CLIENT}
    for i in range(LOGIN_LIMIT):
        assert _post_login(app.test_client(), f"nadie{i}", "x", attacker) == 401
    assert _post_login(app.test_client(), "nadie", "x", attacker) == 429
    # someone else, reaching the same nginx, signs in as usual
    assert _post_login(app.test_client(), ROLE_USERS["consulta"], PASSWORD,
                       {"X-Forwarded-For": OTHER}) == 302


def test_behind_a_proxy_healthz_details_only_for_local_callers(
        proxied: tuple[Services, Flask]) -> None:
    _, app = proxied
    client = app.test_client()
    remote = client.get("/healthz", headers={"X-Forwarded-For": CLIENT}).get_json()
    assert remote["estado"] == "ok" and remote["partes"]["cola"] == {"estado": "ok"}
    local = client.get("/healthz").get_json()  # the machine itself, not through nginx
    assert "pendientes" in local["partes"]["cola"]


def test_behind_a_proxy_api_urls_use_the_public_scheme_and_host(tmp_path: Path) -> None:
    """The public name must be one of ours (ARCHIVO_HOSTS): see tests/test_hosts_headers.py."""
    arc = make_api_archive(tmp_path, immediate=False, ARCHIVO_PROXIES="1",
                           ARCHIVO_HOSTS="archivo.ande.example")
    headers = {**arc.headers("despacho"), "X-Forwarded-For": CLIENT,
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "archivo.ande.example"}
    res = arc.client().post(f"{API}/dispatches", json={"destino": "SUR"}, headers=headers)
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["url"].startswith("https://archivo.ande.example/api/v1/dispatches/")
    assert body["manifiesto_url"].startswith("https://archivo.ande.example/")
    arc.services.dispose()


def test_without_proxies_forwarded_headers_are_ignored(services: Services, app: Flask) -> None:
    """ARCHIVO_PROXIES=0 (the default): a client cannot forge its address to dodge the limit,
    fake a local caller or plant another host in the audit and the links."""
    assert services.settings.proxies == 0
    for i in range(LOGIN_LIMIT):
        forged = {"X-Forwarded-For": f"10.0.0.{i}"}
        assert _post_login(app.test_client(), f"nadie{i}", "x", forged) == 401
    assert _post_login(app.test_client(), "nadie", "x", {"X-Forwarded-For": OTHER}) == 429


def test_without_proxies_the_audit_and_urls_ignore_forwarded_headers(tmp_path: Path) -> None:
    arc = make_api_archive(tmp_path, immediate=False)
    forged = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "malo.example"}
    res = arc.client().post(f"{API}/dispatches", json={"destino": "SUR"},
                            headers={**arc.headers("despacho"), **forged})
    assert res.status_code == 201 and res.get_json()["url"].startswith("http://localhost/")
    assert _post_login(arc.client(), ROLE_USERS["consulta"], PASSWORD, forged) == 302
    assert _ips_of_sign_ins(arc.services) == ["127.0.0.1"]
    arc.services.dispose()


def _through_waitress(app: Flask, options: dict[str, object], path: str,
                      headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """One real HTTP request through waitress with these options (as `archivo serve`)."""
    import json

    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=1, **options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}{path}"  # type: ignore[union-attr]
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as res:
            return json.loads(res.read())  # type: ignore[no-any-return]
    finally:
        server.close()
        thread.join(timeout=10)


def test_waitress_passes_forwarded_headers_only_when_proxies_are_trusted(
        proxied: tuple[Services, Flask], services: Services) -> None:
    """waitress strips X-Forwarded-* by default: ``waitress_options`` keeps them for ProxyFix."""
    svc, app = proxied
    fwd = {"X-Forwarded-For": CLIENT}
    remote = _through_waitress(app, waitress_options(svc.settings), "/healthz", fwd)
    assert remote["partes"]["cola"] == {"estado": "ok"}  # seen as the remote client
    direct_app = create_app(services)
    local = _through_waitress(direct_app, waitress_options(services.settings), "/healthz", fwd)
    assert "pendientes" in local["partes"]["cola"]  # forged header ignored: a local caller
