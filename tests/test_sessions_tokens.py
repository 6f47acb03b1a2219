"""Sessions end on the server, password changes reach API tokens, and a refused sign-in
tells nobody which accounts exist (issue 15, «Sessions, tokens and accounts»)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import archive.accounts as accounts
from archive.accounts import REFUSED, create_token, user_for_token
from archive.db import session_scope
from archive.models import User, WebSession
from archive.services import Services
from tests.conftest import home_env, make_services
from tests.web_support import PASSWORD, ROLE_USERS, add_users, csrf_of, sign_in
from web import create_app

API_DOCS = "/api/v1/documents"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("archivo_sesion")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh browser holding a copy of someone's saved session cookie."""
    other = app.test_client()
    other.set_cookie("archivo_sesion", value)
    return other


def _token_for(services: Services, username: str, name: str = "sistema") -> str:
    with session_scope(services.sessions) as db:
        user = db.scalar(select(User).where(User.username == username))
        assert user is not None
        return create_token(db, user, name, actor="pruebas")[1]


def _token_works(services: Services, secret: str) -> bool:
    with session_scope(services.sessions) as db:
        return user_for_token(db, secret) is not None


# ------------------------------------------------------------------ sign-out


def test_a_saved_cookie_opens_nothing_after_signing_out(app: Flask) -> None:
    client = app.test_client()
    token = sign_in(client, ROLE_USERS["consulta"])
    saved = _cookie(client)
    assert _with_cookie(app, saved).get("/cuenta").status_code == 200  # the copy works...
    assert client.post("/salir", data={"csrf_token": token}).status_code == 302
    copy = _with_cookie(app, saved)  # ...until its owner signs out
    res = copy.get("/cuenta")
    assert res.status_code == 302 and "/ingresar" in res.headers["Location"]
    assert _with_cookie(app, saved).get(API_DOCS).status_code == 401


def test_signing_out_ends_only_that_session(app: Flask, services: Services) -> None:
    office, home = app.test_client(), app.test_client()
    token = sign_in(office, ROLE_USERS["archivista"])
    sign_in(home, ROLE_USERS["archivista"])
    office.post("/salir", data={"csrf_token": token})
    assert home.get("/cuenta").status_code == 200
    with session_scope(services.sessions) as db:
        assert len(db.scalars(select(WebSession)).all()) == 1


def test_an_expired_session_row_is_swept_and_opens_nothing(app: Flask, services: Services) -> None:
    client = app.test_client()
    sign_in(client, ROLE_USERS["consulta"])
    with session_scope(services.sessions) as db:
        row = db.scalars(select(WebSession)).one()
        row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    assert client.get("/cuenta").status_code == 302
    sign_in(app.test_client(), ROLE_USERS["archivista"])  # a new sign-in sweeps old rows
    with session_scope(services.sessions) as db:
        owners = db.scalars(select(User.username).join(WebSession, WebSession.user_id == User.id))
        assert list(owners) == ["u_archivista"]


# ------------------------------------------------------------------ passwords and tokens


def _cli(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    from archivo_cli.main import cli

    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_cli_password_revokes_tokens_unless_kept(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert _cli(env, "init").exit_code == 0
    assert _cli(env, "user", "add", "ana", "--rol", "consulta").exit_code == 0
    svc = make_services(tmp_path / "var")
    kept = _token_for(svc, "ana", "conservado")
    out = _cli(env, "user", "password", "ana", "--conservar-tokens")
    assert out.exit_code == 0 and "siguen valiendo" in out.output
    assert _token_works(svc, kept)

    out = _cli(env, "user", "password", "ana")
    assert out.exit_code == 0 and "Tokens de acceso a la API revocados: 1." in out.output
    assert not _token_works(svc, kept)
    svc.dispose()


def test_admin_password_reset_revokes_the_users_tokens(app: Flask, services: Services) -> None:
    secret = _token_for(services, "u_archivista")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get(API_DOCS, headers=bearer).status_code == 200
    admin = app.test_client()
    token = sign_in(admin, ROLE_USERS["admin"])
    with session_scope(services.sessions) as db:
        uid = db.scalar(select(User.id).where(User.username == "u_archivista"))
    res = admin.post(f"/admin/usuarios/{uid}/contrasena", data={"csrf_token": token})
    assert res.status_code == 200 and "tokens de acceso a la API quedaron revocados" in \
        res.get_data(as_text=True)
    assert app.test_client().get(API_DOCS, headers=bearer).status_code == 401


@pytest.mark.parametrize("ask, still_works", [(False, True), (True, False)])
def test_own_password_change_revokes_tokens_only_when_asked(
        app: Flask, services: Services, ask: bool, still_works: bool) -> None:
    secret = _token_for(services, "u_consulta")
    client = app.test_client()
    token = sign_in(client, ROLE_USERS["consulta"])
    assert 'name="revocar_tokens"' in client.get("/cuenta").get_data(as_text=True)
    new = "otra-clave-segura-789"
    form = {"actual": PASSWORD, "nueva": new, "repetir": new, "csrf_token": token}
    if ask:
        form["revocar_tokens"] = "1"
    assert client.post("/cuenta/contrasena", data=form).status_code == 302
    assert client.get("/cuenta").status_code == 200  # this browser stays signed in
    assert _token_works(services, secret) is still_works


# ------------------------------------------------------------------ no account enumeration


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash verification sign-in makes (the expensive work)."""
    calls: list[str] = []
    real = accounts.verify_password_hash

    def counted(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "verify_password_hash", counted)
    yield calls


def _refusal(client: FlaskClient, username: str, password: str) -> tuple[int, str]:
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": username, "contrasena": password,
                                         "csrf_token": token})
    # the typed name is given back in the form: the rest must not differ
    return res.status_code, res.get_data(as_text=True).replace(username, "NOMBRE")


def test_locked_account_and_unknown_name_answer_alike(app: Flask, services: Services,
                                                      hash_checks: list[str]) -> None:
    with session_scope(services.sessions) as db:
        user = db.scalar(select(User).where(User.username == "u_consulta"))
        assert user is not None
        user.locked_until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    client = app.test_client()
    locked = _refusal(client, "u_consulta", PASSWORD)  # even with the right password
    assert len(hash_checks) == 1
    unknown = _refusal(client, "u_nadiexx", PASSWORD)
    assert len(hash_checks) == 2
    wrong = _refusal(client, "u_archivista", "no-es-la-clave")
    assert len(hash_checks) == 3
    assert locked == unknown == wrong
    assert locked[0] == 401 and REFUSED in locked[1]


def test_the_failure_that_locks_reads_like_any_other(app: Flask, services: Services) -> None:
    client = app.test_client()
    answers = {_refusal(client, "u_consulta", "mala")[1]
               for _ in range(accounts.MAX_FAILURES + 1)}
    assert len(answers) == 1
    with session_scope(services.sessions) as db:
        user = db.scalar(select(User).where(User.username == "u_consulta"))
        assert user is not None and user.locked_until is not None


# ------------------------------------------------------------------ control characters


@pytest.fixture
def app_on(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The web app on SQLite and on PostgreSQL (a NUL breaks only the latter)."""
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    initialize(svc)
    add_users(svc)
    flask_app = create_app(svc)
    flask_app.config["TESTING"] = True
    yield flask_app
    svc.dispose()


@pytest.mark.parametrize("username, password", [
    ("u_consulta\x00", PASSWORD), ("\x00", "x"), ("u_con\x00sulta", PASSWORD),
    ("u_consulta", PASSWORD + "\x00"), ("u_consulta\x1b", PASSWORD)])
def test_control_characters_are_a_normal_refused_sign_in(
        app_on: Flask, hash_checks: list[str], username: str, password: str) -> None:
    client = app_on.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": username, "contrasena": password,
                                         "csrf_token": token})
    body = res.get_data(as_text=True)
    assert res.status_code == 401 and REFUSED in body
    assert "\x00" not in body and len(hash_checks) == 1
    assert sign_in(app_on.test_client(), ROLE_USERS["consulta"])  # nothing else broke
