"""Security headers on every answer, and no secret in logs or error answers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from tests.api_support import make_api_archive
from tests.conftest import make_services
from web import create_app


def test_headers_on_pages_api_and_errors(app: Flask) -> None:
    client = app.test_client()
    for url in ("/ingresar", "/api/v1/openapi.json", "/no-existe", "/api/v1/documents/1"):
        res = client.get(url)
        assert res.headers["X-Content-Type-Options"] == "nosniff", url
        assert res.headers["X-Frame-Options"] == "DENY", url
        csp = res.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1]


def test_no_secret_in_logs_or_answers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "supersecreto-que-no-debe-verse"
    db_secret = "clave-de-la-base-9876"
    svc = make_services(tmp_path / "var",
                        ARCHIVO_STORAGE_URL=f"s3://AKID:{secret}@127.0.0.1:9/archivo",
                        ARCHIVO_DATABASE_URL=f"postgresql+psycopg://u:{db_secret}@127.0.0.1:9/x")
    caplog.set_level(logging.DEBUG)
    res = create_app(svc).test_client().get("/healthz")
    assert res.status_code == 503
    body = res.get_data(as_text=True)
    assert secret not in body and db_secret not in body
    assert secret not in caplog.text and db_secret not in caplog.text


def test_api_storage_error_masks_credentials(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from archive.errors import StorageError
    from web.api.errors import _cause

    text = _cause(StorageError("No se puede conectar con s3://AKID:secreto@host:9/b."))
    assert "secreto" not in text and "s3://***@host:9/b" in text


def test_healthz_details_only_for_local_or_signed_in(tmp_path: Path) -> None:
    blocker = tmp_path / "archivo"
    blocker.write_text("x")
    svc = make_services(tmp_path / "var", ARCHIVO_STORAGE_URL=f"file://{blocker}/objetos")
    client = create_app(svc).test_client()
    remote = client.get("/healthz", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 503
    assert all("detalle" not in part for part in remote.get_json()["partes"].values())
    local = client.get("/healthz")
    assert "ARCHIVO_STORAGE_URL" in local.get_json()["partes"]["almacenamiento"]["detalle"]
