"""The Host header never reaches links, unknown hosts are refused, signed-in answers stay
out of caches and images come only from us (issue 15, «Sessions, tokens and accounts»)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from archive.config import load_settings
from archive.errors import ConfigError
from tests.api_support import API, make_api_archive
from tests.conftest import make_services
from tests.web_support import ROLE_USERS, sign_in
from web import create_app

REFUSED_HOST = "no atiende ese nombre de sitio"


# ------------------------------------------------------------------ hosts


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5000", "[::1]:8000", "LOCALHOST"])
def test_local_names_are_served(app: Flask, host: str) -> None:
    assert app.test_client().get("/ingresar", headers={"Host": host}).status_code == 200


def test_an_unknown_host_is_refused_in_spanish(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/ingresar", headers={"Host": "evil.example"})
    assert page.status_code == 400 and REFUSED_HOST in page.get_data(as_text=True)
    api = client.get(f"{API}/documents", headers={"Host": "evil.example:80"})
    assert api.status_code == 400 and REFUSED_HOST in api.get_json()["mensaje"]
    missing = client.get("/no-existe", headers={"Host": "evil.example"})
    assert missing.status_code == 400  # before any routing


def test_a_refused_host_tells_the_administrator_what_to_set(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    app.test_client().get("/ingresar", headers={"Host": "192.168.1.20:5000"})
    assert any("192.168.1.20" in r.getMessage() and "ARCHIVO_HOSTS" in r.getMessage()
               for r in caplog.records)


def test_base_url_host_and_listed_hosts_are_served(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "var", ARCHIVO_BASE_URL="https://archivo.ande.example",
                        ARCHIVO_HOSTS="archivo.interna, .ande.com.py")
    client = create_app(svc).test_client()
    for host in ("archivo.ande.example", "archivo.interna", "docs.ande.com.py", "localhost"):
        assert client.get("/ingresar", headers={"Host": host}).status_code == 200, host
    for host in ("ande.com.py.evil.example", "evilande.com.py", "otro.example"):
        assert client.get("/ingresar", headers={"Host": host}).status_code == 400, host


def test_api_urls_come_from_base_url_not_from_the_host_header(tmp_path: Path) -> None:
    arc = make_api_archive(tmp_path, immediate=False, ARCHIVO_HOSTS="*",
                           ARCHIVO_BASE_URL="https://archivo.ande.example/")
    res = arc.client().post(f"{API}/dispatches", json={"destino": "SUR"},
                            headers={**arc.headers("despacho"), "Host": "evil.example"})
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    assert body["url"].startswith("https://archivo.ande.example/api/v1/dispatches/")
    assert body["manifiesto_url"].startswith("https://archivo.ande.example/api/v1/")
    assert "evil.example" not in res.get_data(as_text=True)
    arc.services.dispose()


def test_behind_a_proxy_an_unknown_forwarded_host_is_refused(tmp_path: Path) -> None:
    arc = make_api_archive(tmp_path, immediate=False, ARCHIVO_PROXIES="1")
    res = arc.client().get(f"{API}/documents", headers={
        **arc.headers("consulta"), "X-Forwarded-Host": "evil.example"})
    assert res.status_code == 400 and REFUSED_HOST in res.get_json()["mensaje"]
    arc.services.dispose()


def test_hosts_setting_is_checked(tmp_path: Path) -> None:
    s = load_settings({"ARCHIVO_HOME": str(tmp_path), "ARCHIVO_HOSTS": " Archivo.Interna ,[::2]"})
    assert s.hosts == ("archivo.interna", "::2")
    assert s.trusted_hosts == {"localhost", "127.0.0.1", "::1", "archivo.interna", "::2"}
    assert load_settings({"ARCHIVO_HOME": str(tmp_path), "ARCHIVO_HOSTS": "*"}).trusted_hosts is None
    with pytest.raises(ConfigError, match="ARCHIVO_HOSTS"):
        load_settings({"ARCHIVO_HOME": str(tmp_path), "ARCHIVO_HOSTS": "https://archivo.interna"})


# ------------------------------------------------------------------ caches


def test_signed_in_pages_and_api_replies_are_not_stored(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    anonymous = client.get("/ingresar")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    sign_in(client, ROLE_USERS["consulta"])
    for url in ("/cuenta", "/", f"{API}/documents", f"{API}/no-existe"):
        res = client.get(url)
        assert res.headers["Cache-Control"] == "no-store", url
        assert res.headers["Pragma"] == "no-cache", url
    static = client.get("/static/archivo.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
    unauthenticated_api = app.test_client().get(f"{API}/documents")
    assert unauthenticated_api.status_code == 401
    assert unauthenticated_api.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ content security policy


def _img_src(app: Flask) -> list[str]:
    csp = app.test_client().get("/ingresar").headers["Content-Security-Policy"]
    return next(p for p in csp.split(";") if p.strip().startswith("img-src")).split()[1:]


def test_images_come_only_from_us(app: Flask) -> None:
    assert _img_src(app) == ["'self'", "data:", "blob:"]


def test_images_may_come_from_the_s3_store(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "var", ARCHIVO_S3_SECURE="true",
                        ARCHIVO_STORAGE_URL="s3://AKID:secreto@s3.ande.example:9000/archivo")
    sources = _img_src(create_app(svc))
    assert sources == ["'self'", "data:", "blob:", "https://s3.ande.example:9000",
                       "https://archivo.s3.ande.example:9000"]
    assert "*" not in sources
