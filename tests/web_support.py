"""Web test helpers: one account per role and clients signed in as them."""

from __future__ import annotations

import re
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.db import session_scope
from archive.enums import Role
from archive.services import Services
from archive.users import create_user
from web import create_app

PASSWORD = "clave-de-prueba-123"
# username per role; the regional user belongs to Regional Sur (SUR).
ROLE_USERS = {role.value: f"u_{role.value}" for role in Role}


def add_users(services: Services) -> dict[str, str]:
    with session_scope(services.sessions) as db:
        for role, username in ROLE_USERS.items():
            create_user(db, username, role, password=PASSWORD, full_name=f"Usuario {role}",
                        regional_code="SUR" if role == Role.REGIONAL.value else None)
    return ROLE_USERS


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "la página no trae token CSRF"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": username, "contrasena": password,
                                         "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)
    with client.session_transaction() as sess:
        return str(sess["csrf_token"])


@pytest.fixture
def app(services: Services) -> Flask:
    add_users(services)
    flask_app = create_app(services)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client_as(app: Flask) -> Iterator:  # type: ignore[type-arg]
    """``client_as("archivista")`` -> (client, csrf token) signed in with that role."""
    def make(role: str) -> tuple[FlaskClient, str]:
        client = app.test_client()
        return client, sign_in(client, ROLE_USERS[role])
    yield make
