"""The upload page: one JSON request per file, live status, duplicates, limits, the no-JS form."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse
from sqlalchemy import select

from archive.db import session_scope
from archive.models import AuditEvent, Document
from archive.services import Services
from archivo_cli.bootstrap import initialize
from ingest.process import process_document
from tests import scans
from tests.conftest import make_services
from tests.web_support import add_users, sign_in
from web import create_app

ClientAs = Callable[[str], tuple[FlaskClient, str]]


def _png(seed: int = 3) -> tuple[bytes, list[str]]:
    img, nis = scans.page(seed=seed, doc_type="contrato")
    return scans.png_bytes(img), nis


def _post_file(client: FlaskClient, token: str, data: bytes, name: str = "contrato.png",
               **fields: str) -> TestResponse:
    form: dict[str, object] = {"archivo": (io.BytesIO(data), name), **fields}
    return client.post("/subir/archivo", data=form, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def _run_queued_work(services: Services, ids: list[int]) -> None:
    """The worker, synchronously: what the queue message would make it do."""
    for doc_id in ids:
        process_document(services, doc_id)


def test_upload_then_status_reaches_listo(app: Flask, client_as: ClientAs,
                                          services: Services) -> None:
    client, token = client_as("archivista")
    page = client.get("/subir")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in html
    assert "subir.js" in html and "<script>" not in html  # CSP: no inline script
    data, nis = _png()
    res = _post_file(client, token, data, notas="Entregado por ventanilla 3")
    assert res.status_code == 202, res.get_data(as_text=True)
    body = res.get_json()
    assert body["numero"].startswith("ARC-") and body["estado"] == "recibido"
    assert body["duplicado"] is False and body["url"] == f"/documentos/{body['id']}"
    assert services.huey.pending_count() == 1  # the wake-up message for the worker

    status = client.get(f"/subir/estado?ids={body['id']}").get_json()
    assert status["documentos"][0]["estado"] == "recibido" and status["terminado"] is False

    _run_queued_work(services, [body["id"]])
    status = client.get(f"/subir/estado?ids={body['id']},999").get_json()
    [doc] = status["documentos"]  # unknown ids are left out
    assert doc["estado"] == "listo" and doc["final"] is True and status["terminado"] is True
    assert doc["nis"] == nis and doc["paginas"] == 1 and doc["estado_texto"] == "Listo"
    with session_scope(services.sessions) as db:
        note = db.scalar(select(AuditEvent).where(AuditEvent.action == "documento.nota"))
        assert note.object_id == body["numero"] and note.actor == "u_archivista"
        assert note.details["notas"] == "Entregado por ventanilla 3"


def test_type_and_nis_apply_and_review_reason_is_spanish(client_as: ClientAs,
                                                         services: Services) -> None:
    client, token = client_as("archivista")
    blank = scans.png_bytes(scans.page(seed=4, lines=["Hoja sin datos de suministro"])[0])
    res = _post_file(client, token, blank, "hoja.png", tipo="croquis", nis="")
    doc_id = res.get_json()["id"]
    _run_queued_work(services, [doc_id])
    [doc] = client.get(f"/subir/estado?ids={doc_id}").get_json()["documentos"]
    assert doc["estado"] == "revisar" and doc["tipo"] == "croquis"
    assert {"codigo": "sin_nis", "texto": "No se encontró ningún NIS"} in doc["motivos"]

    data, _ = _png(seed=9)
    res = _post_file(client, token, data, tipo="Orden de trabajo", nis="4.992.383, 1234567 7654321")
    body = res.get_json()
    assert res.status_code == 202 and body["nis"] == ["1234567", "4992383", "7654321"]
    with session_scope(services.sessions) as db:
        stored = db.get(Document, body["id"])
        assert stored.doc_type.value == "orden_trabajo" and stored.doc_type_fixed


def test_duplicate_bytes_answer_the_existing_number(client_as: ClientAs,
                                                    services: Services) -> None:
    client, token = client_as("archivista")
    data, _ = _png(seed=5)
    first = _post_file(client, token, data, "a.png").get_json()
    again = _post_file(client, token, data, "copia.png", nis="1234567")
    body = again.get_json()
    assert again.status_code == 200 and body["duplicado"] is True
    assert body["id"] == first["id"]
    assert f"ya estaba archivado como {first['numero']}" in body["mensaje"]
    assert "1234567" in body["nis"]  # the NIS sent with the copy is kept
    with session_scope(services.sessions) as db:
        assert len(db.scalars(select(Document)).all()) == 1


def test_bad_nis_and_unknown_type_are_422_in_spanish(client_as: ClientAs,
                                                     services: Services) -> None:
    client, token = client_as("archivista")
    data, _ = _png(seed=6)
    res = _post_file(client, token, data, nis="12AB")
    assert res.status_code == 422
    assert res.get_json() == {"error": "nis_invalido", "mensaje": res.get_json()["mensaje"]}
    assert "no es un NIS válido" in res.get_json()["mensaje"]
    res = _post_file(client, token, data, tipo="factura")
    assert res.status_code == 422 and res.get_json()["error"] == "tipo_invalido"
    assert "Tipo de documento desconocido" in res.get_json()["mensaje"]
    res = _post_file(client, token, data, notas="caja\x0012")  # multipart: not seen by web.bodies
    assert res.status_code == 422 and res.get_json()["error"] == "notas_invalidas"
    missing = client.post("/subir/archivo", data={"nis": "1234567"},
                          headers={"X-CSRFToken": token})
    assert missing.status_code == 400 and "campo «archivo»" in missing.get_json()["mensaje"]
    bad_ids = client.get("/subir/estado?ids=1,x")
    assert bad_ids.status_code == 400 and "ids" in bad_ids.get_json()["mensaje"]
    with session_scope(services.sessions) as db:
        assert db.scalars(select(Document)).all() == []  # nothing stored for refused requests


@pytest.fixture
def small_limit_app(tmp_path: Path) -> Iterator[tuple[Flask, Services]]:
    """An archive whose files may not exceed 1 MB (so the request limit is 2 MB)."""
    svc = make_services(tmp_path / "var", ARCHIVO_MAX_ARCHIVO_MB="1")
    initialize(svc)
    add_users(svc)
    app = create_app(svc)
    app.config["TESTING"] = True
    yield app, svc
    svc.dispose()


def test_oversize_is_413_json_in_spanish(small_limit_app: tuple[Flask, Services]) -> None:
    app, svc = small_limit_app
    client = app.test_client()
    token = sign_in(client, "u_archivista")
    huge = b"\0" * (3 * 1024 * 1024)  # over the request limit: refused from Content-Length
    res = _post_file(client, token, huge, "enorme.tif")
    assert res.status_code == 413
    body = res.get_json()
    assert body["error"] == "demasiado_grande"
    assert "supera el tamaño máximo de 1 MB" in body["mensaje"]

    # under the request limit, over the file limit: accept_stream stops reading it
    over_file = b"II*\0" + b"\0" * (1024 * 1024 + 10)
    res = _post_file(client, token, over_file, "grande.tif")
    assert res.status_code == 413 and "grande.tif" in res.get_json()["mensaje"]
    with session_scope(svc.sessions) as db:
        assert db.scalars(select(Document)).all() == []

    # the form without JavaScript gets the same refusal as a page
    page = client.post("/subir", data={"archivo": (io.BytesIO(huge), "enorme.tif"),
                                       "csrf_token": token}, content_type="multipart/form-data")
    assert page.status_code == 413 and "text/html" in page.content_type
    assert "supera el tamaño máximo de 1 MB" in page.get_data(as_text=True)


def test_form_without_javascript_stores_every_file(client_as: ClientAs, services: Services) -> None:
    client, token = client_as("archivista")
    one, _ = _png(seed=11)
    two, _ = _png(seed=12)
    res = client.post("/subir", content_type="multipart/form-data", data={
        "archivo": [(io.BytesIO(one), "uno.png"), (io.BytesIO(two), "dos.png"),
                    (io.BytesIO(b""), "vacio.png")],
        "tipo": "contrato", "nis": "", "notas": "", "csrf_token": token})
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "uno.png" in html and "dos.png" in html and "recibido como ARC-" in html
    assert "vacio.png" in html and "está vacío" in html  # the bad one is reported, the rest kept
    with session_scope(services.sessions) as db:
        ids = [d.id for d in db.scalars(select(Document).order_by(Document.id))]
    assert len(ids) == 2
    [link] = re.findall(r'href="(/subir\?ids=[^"]+)"', html)
    assert link.replace("%2C", ",") == f"/subir?ids={ids[0]},{ids[1]}"
    _run_queued_work(services, ids)
    follow = client.get(link).get_data(as_text=True)
    assert follow.count('class="estado listo"') == 2

    bad = client.post("/subir", content_type="multipart/form-data", data={
        "archivo": (io.BytesIO(one), "uno.png"), "nis": "abc", "csrf_token": token})
    assert bad.status_code == 422 and "no es un NIS válido" in bad.get_data(as_text=True)


def test_uploaded_filename_is_escaped(client_as: ClientAs) -> None:
    client, token = client_as("archivista")
    data, _ = _png(seed=13)
    res = client.post("/subir", content_type="multipart/form-data", data={
        "archivo": (io.BytesIO(data), "<script>alert(1)</script>.png"), "csrf_token": token})
    html = res.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_only_archivists_upload(client_as: ClientAs) -> None:
    for role in ("consulta", "despacho", "regional"):
        client, token = client_as(role)
        assert client.get("/subir").status_code == 403
        res = _post_file(client, token, b"x")
        assert res.status_code == 403 and res.get_json()["error"] == "prohibido"
    admin, token = client_as("admin")
    assert admin.get("/subir").status_code == 200


def test_csrf_failure_answers_json(client_as: ClientAs) -> None:
    client, _ = client_as("archivista")
    data, _ = _png(seed=14)
    res = client.post("/subir/archivo", data={"archivo": (io.BytesIO(data), "a.png")},
                      content_type="multipart/form-data")
    assert res.status_code == 400 and "CSRF" in res.get_json()["mensaje"]
