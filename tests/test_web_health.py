from __future__ import annotations

import datetime as dt
from pathlib import Path

from archive.services import Services
from tests.conftest import make_services
from web import create_app


def test_healthz_ok_on_fresh_archive(services: Services) -> None:
    client = create_app(services).test_client()
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.json["estado"] == "ok"
    assert set(res.json["partes"]) == {"base_de_datos", "escritura", "almacenamiento",
                                       "indice", "cola", "capacidades"}
    assert res.json["partes"]["capacidades"] == {"estado": "ok"}  # the install is complete


def test_healthz_503_names_the_broken_part(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    svc = make_services(tmp_path / "var", ARCHIVO_STORAGE_URL=f"file://{blocker}/objetos")
    res = create_app(svc).test_client().get("/healthz")
    assert res.status_code == 503
    parts = res.json["partes"]
    assert parts["almacenamiento"]["estado"] == "error"
    assert "ARCHIVO_STORAGE_URL" in parts["almacenamiento"]["detalle"]
    assert parts["base_de_datos"]["estado"] == "error"  # never initialized
    assert "archivo init" in parts["base_de_datos"]["detalle"]


def test_signed_object_download(services: Services) -> None:
    services.store.put_bytes("pages/ab/cd/x/0001-web.jpg", b"\xff\xd8jpeg", media_type="image/jpeg")
    url = services.store.url("pages/ab/cd/x/0001-web.jpg", dt.timedelta(minutes=5))
    path = url.split("127.0.0.1:5000", 1)[1]
    client = create_app(services).test_client()
    res = client.get(path)
    assert res.status_code == 200 and res.data == b"\xff\xd8jpeg"
    assert res.mimetype == "image/jpeg"
    assert res.headers["Content-Disposition"] == 'attachment; filename="0001-web.jpg"'
    tampered = client.get(path.replace("0001-web", "0002-web"))
    assert tampered.status_code == 403
