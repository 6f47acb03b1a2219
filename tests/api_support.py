"""Helpers for the API tests: an archive with one user and one token per role.

Module-scoped archives (``make_api_archive``) keep the OCR of a real scan to
once per test module. With ``immediate=True`` the queue runs tasks inline, so
an upload through the API is OCR'd and indexed before the request returns.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import create_token
from archive.db import session_scope
from archive.models import User
from archive.services import Services
from tests.web_support import ROLE_USERS, add_users, sign_in
from web import create_app

API = "/api/v1"


@dataclass
class ApiArchive:
    services: Services
    app: Flask
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer secret

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def session_client(self, role: str) -> tuple[FlaskClient, str]:
        """A browser-like client signed in with a password; returns it and its CSRF token."""
        client = self.app.test_client()
        return client, sign_in(client, ROLE_USERS[role])

    def upload(self, role: str, data: bytes, filename: str,  # type: ignore[no-untyped-def]
               **form: object):
        payload: dict[str, object] = {"archivo": (io.BytesIO(data), filename), **form}
        return self.client().post(f"{API}/documents", data=payload, headers=self.headers(role),
                                  content_type="multipart/form-data")


def make_api_archive(home: Path, *, immediate: bool = True, **env: str) -> ApiArchive:
    from archivo_cli.bootstrap import initialize
    from search.tasks import register_index_task
    from tests.conftest import make_services

    svc = make_services(home / "var", **env)
    svc.immediate_queue = immediate  # before the first use of services.huey
    initialize(svc)
    if immediate:
        register_index_task(svc)  # a finished document is indexed inline too
    add_users(svc)
    app = create_app(svc)
    app.config["TESTING"] = True
    tokens = {}
    with session_scope(svc.sessions) as db:
        for role, username in ROLE_USERS.items():
            user = db.scalar(select(User).where(User.username == username))
            assert user is not None
            tokens[role] = create_token(db, user, f"pruebas {role}", actor="pruebas")[1]
    return ApiArchive(svc, app, tokens)


def error_of(res) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(code, Spanish message) of an API error; asserts the documented shape."""
    body = res.get_json()
    assert res.mimetype == "application/json", res.get_data(as_text=True)[:200]
    assert set(body) == {"error", "mensaje"}, body
    assert isinstance(body["mensaje"], str) and body["mensaje"].strip(), body
    return body["error"], body["mensaje"]
