"""The /fisico pages, their role rules, the search box hook, the dashboard card and the CLI."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from archive import physical as ph
from archive.db import session_scope
from archive.enums import Role
from archive.localtime import local_today
from archive.services import Services
from archivo_cli.main import cli
from dispatch import Actor, add_courier, add_folder, create_dispatch, prepare, send
from tests.conftest import home_env
from tests.registry_helpers import add_document
from tests.web_support import add_users
from web import create_app

ClientAs = Callable[[str], tuple[FlaskClient, str]]
PAST = dt.datetime(2026, 1, 5, 13, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def app(services: Services) -> Flask:
    add_users(services)
    flask_app = create_app(services)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def box(services: Services) -> str:
    with session_scope(services.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana")
        sala = ph.add_location(db, parent=dep.code, actor="ana")
        est = ph.add_location(db, parent=sala.code, name="Estante A", actor="ana")
        ph.add_location(db, parent=est.code, name="Contratos 2016", actor="ana")
        ph.add_location(db, parent=est.code, actor="ana")
    return "CAJA-000001"


def _text(res) -> str:  # type: ignore[no-untyped-def]
    return res.get_data(as_text=True)


def _flashes(client: FlaskClient, url: str) -> str:
    return _text(client.get(url))


def test_archivist_builds_moves_lends_and_returns(client_as: ClientAs, box: str,
                                                  services: Services) -> None:
    client, token = client_as("archivista")
    page = _text(client.get("/fisico/"))
    assert "Contratos 2016" in page and 'id="nueva-carpeta"' in page and "Archivo físico" in page
    res = client.post("/fisico/carpetas", data={"csrf_token": token, "nis": "4992383",
                                                "descripcion": "Contrato <script>x</script>",
                                                "ubicacion": box})
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/fisico/carpeta/CARP-000001")
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert "Se creó la carpeta CARP-000001." in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "Caja Contratos 2016 (CAJA-000001)" in page

    res = client.post("/fisico/carpeta/CARP-000001/mover",
                      data={"csrf_token": token, "hacia": "CAJA-000002", "nota": "orden"})
    assert res.status_code == 302
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert "ahora está en" in page and "orden" in page and "u_archivista" in page

    due = (local_today() + dt.timedelta(days=7)).isoformat()
    client.post("/fisico/carpeta/CARP-000001/prestar",
                data={"csrf_token": token, "a": "Asesoría Jurídica", "vence": due})
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert 'id="prestada"' in page and "Prestada a Asesoría Jurídica" in page
    assert 'id="mover"' not in page and 'id="devolver"' in page
    client.post("/fisico/carpeta/CARP-000001/prestar",
                data={"csrf_token": token, "a": "Otro", "vence": due})
    assert "ya está prestada a Asesoría Jurídica" in _flashes(client, "/fisico/carpeta/CARP-000001")
    client.post("/fisico/carpeta/CARP-000001/prestar",
                data={"csrf_token": token, "a": "Otro", "vence": "mañana"})
    assert "no es válida" in _flashes(client, "/fisico/carpeta/CARP-000001")
    client.post("/fisico/carpeta/CARP-000001/devolver", data={"csrf_token": token})
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert "Se registró la devolución" in page and 'id="prestar"' in page

    add_document(services, 3, ["4992383"])
    client.post("/fisico/documentos", data={"csrf_token": token, "carpeta": "CARP-000001",
                                            "numero": "ARC-2026-3"})
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert "El original de ARC-2026-000003 queda en carpeta CARP-000001" in page
    assert "Se guarda en: <strong>carpeta CARP-000001" in client.get("/documentos/1").get_data(
        as_text=True)

    res = client.post("/fisico/ubicaciones", data={"csrf_token": token, "dentro_de": "EST-000001",
                                                   "nombre": "Reclamos"})
    assert res.headers["Location"].endswith("/fisico/ubicacion/CAJA-000003")
    client.post("/fisico/ubicacion/CAJA-000003/mover",
                data={"csrf_token": token, "hacia": "SALA-000001"})
    assert "solo puede ir dentro de" in _flashes(client, "/fisico/ubicacion/CAJA-000003")


def test_readers_see_pages_without_forms(client_as: ClientAs, box: str,
                                         services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.create_folder(db, nis="4992383", location=box, actor="ana")
    for role in ("consulta", "despacho"):
        client, token = client_as(role)
        page = _text(client.get("/fisico/carpeta/CARP-000001"))
        assert "CARP-000001" in page and 'id="prestar"' not in page and 'id="mover"' not in page
        assert client.get(f"/fisico/ubicacion/{box}").status_code == 200
        assert client.get("/fisico/prestamos").status_code == 200
        res = client.post("/fisico/carpeta/CARP-000001/prestar",
                          headers={"X-CSRFToken": token}, data={"a": "X", "vence": "2030-01-01"})
        assert res.status_code == 403
    client, _ = client_as("regional")
    assert client.get("/fisico/").status_code == 403
    assert client.get("/fisico/carpeta/CARP-000001").status_code == 403
    admin, _ = client_as("admin")
    assert 'id="prestar"' in _text(admin.get("/fisico/carpeta/CARP-000001"))


def test_menu_entry_and_unknown_codes(client_as: ClientAs, box: str) -> None:
    client, token = client_as("consulta")
    assert 'href="/fisico/">Archivo físico</a>' in _text(client.get("/buscar"))
    assert client.get("/fisico/carpeta/CARP-000404").status_code == 404
    assert client.get("/fisico/carpeta/1234567").status_code == 404
    archivist, token = client_as("archivista")
    res = archivist.post("/fisico/carpeta/CARP-000404/devolver", data={"csrf_token": token})
    assert res.status_code == 404
    regional, _ = client_as("regional")
    assert 'Archivo físico' not in _text(regional.get("/despachos"))


def test_a_scanned_label_in_the_search_box_opens_the_box_or_folder(
        client_as: ClientAs, box: str, services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.create_folder(db, location=box, actor="ana")
    client, _ = client_as("consulta")
    res = client.get("/buscar?q=CAJA-000001")
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/fisico/ubicacion/CAJA-000001")
    res = client.get("/buscar?q=carp-000001")
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/fisico/carpeta/CARP-000001")
    res = client.get("/fisico/codigo?c=caja-000002")
    assert res.headers["Location"].endswith("/fisico/ubicacion/CAJA-000002")
    assert client.get("/buscar?q=CAJA-000777").status_code != 302  # unknown: an ordinary search
    assert client.get("/buscar?q=contrato CAJA-000001").status_code != 302


def test_label_pdf_download(client_as: ClientAs, box: str, services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.create_folder(db, nis="4992383", location=box, actor="ana")
    client, _ = client_as("despacho")
    res = client.get("/fisico/etiquetas.pdf?codigo=CARP-000001%0D%0ACAJA-000001&formato=hoja24")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    pdf = pdfium.PdfDocument(res.get_data())
    page = pdf[0]
    assert "NIS 4992383" in page.get_textpage().get_text_range()
    image = page.render(scale=300 / 72, grayscale=True).to_pil()
    assert sorted(b.text for b in zxingcpp.read_barcodes(image)) == ["CAJA-000001", "CARP-000001"]
    pdf.close()
    res = client.get("/fisico/etiquetas.pdf?codigo=CAJA-404")
    assert res.status_code == 404 and "CAJA-404" in _text(res)
    assert client.get("/fisico/etiquetas.pdf?codigo=CAJA-000001&formato=x").status_code == 422


def test_overdue_loans_page_and_dashboard(client_as: ClientAs, box: str,
                                          services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.create_folder(db, nis="4992383", location=box, actor="ana")
        ph.create_folder(db, location=box, actor="ana")
        ph.lend(db, "CARP-000001", borrower="Gerencia <b>Comercial</b>",
                due=dt.date(2026, 1, 10), actor="ana", away=ph.NO_HOLDS, now=PAST)
        ph.lend(db, "CARP-000002", borrower="Legal", due=local_today() + dt.timedelta(days=3),
                actor="ana", away=ph.NO_HOLDS)
    client, _ = client_as("archivista")
    page = _text(client.get("/fisico/prestamos?vencidos=1"))
    assert "CARP-000001" in page and "CARP-000002" not in page
    assert "Gerencia &lt;b&gt;Comercial&lt;/b&gt;" in page
    assert "CARP-000002" in _text(client.get("/fisico/prestamos"))
    assert re.search(r'id="vencidos">1 préstamo', _text(client.get("/fisico/")))
    board = _text(client.get("/tablero"))
    card = board[board.index('id="t-prestamos"'):]
    assert re.search(r'class="cifra">1<', card)
    assert ("CARP-000001</a> (NIS 4992383): Gerencia &lt;b&gt;Comercial&lt;/b&gt;, "
            "vencía el 10/01/2026") in card


def test_dispatched_folder_is_refused_on_the_web(client_as: ClientAs, box: str,
                                                 services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.create_folder(db, location=box, actor="ana")
    admin = Actor("admin", Role.ADMIN)
    add_courier(services, admin, "Correo Paraguayo")
    d = create_dispatch(services, admin, "SUR")
    add_folder(services, admin, d.id, "CARP-000001")
    prepare(services, admin, d.id)
    send(services, admin, d.id, courier="Correo Paraguayo", guide_number="G-9")
    client, token = client_as("archivista")
    page = _text(client.get("/fisico/carpeta/CARP-000001"))
    assert 'id="fuera"' in page and "en tránsito a Regional Sur" in page
    assert 'id="prestar"' not in page
    due = (local_today() + dt.timedelta(days=2)).isoformat()
    client.post("/fisico/carpeta/CARP-000001/prestar", data={"csrf_token": token, "a": "X",
                                                             "vence": due})
    assert "No se puede prestar la carpeta CARP-000001" in _flashes(client,
                                                                    "/fisico/carpeta/CARP-000001")


def test_cli_commands(services: Services, tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")

    def run(*args: str, ok: bool = True) -> str:
        out = CliRunner().invoke(cli, ["fisico", *args], env=env, catch_exceptions=False)
        assert (out.exit_code == 0) == ok, out.output
        return out.output

    run("ubicaciones", "agregar", "--nombre", "Central")
    run("ubicaciones", "agregar", "--dentro", "DEP-000001")
    run("ubicaciones", "agregar", "--dentro", "SALA-000001")
    assert "Caja" in run("ubicaciones", "agregar", "--dentro", "EST-000001", "--nombre", "2016")
    run("ubicaciones", "agregar", "--dentro", "EST-000001")
    assert "Depósito Central (DEP-000001)" in run("ubicaciones", "lista")
    assert "CARP-000001" in run("carpeta", "crear", "--nis", "4992383", "--en", "CAJA-000001")
    run("carpeta", "mover", "CARP-000001", "CAJA-000002", "--nota", "orden", "--usuario", "beto")
    run("prestar", "CARP-000001", "--a", "Legal", "--hasta",
        (local_today() + dt.timedelta(days=5)).isoformat())
    assert "ya está prestada" in run("prestar", "CARP-000001", "--a", "Otro", "--hasta",
                                     (local_today() + dt.timedelta(days=5)).isoformat(), ok=False)
    shown = run("carpeta", "ver", "CARP-000001")
    assert "beto" in shown and "Prestada a Legal" in shown
    assert "Legal" in run("prestamos")
    assert "No hay préstamos vencidos." in run("prestamos", "--vencidos")
    run("devolver", "CARP-000001")
    assert "4. Caja" in run("niveles")
    out_pdf = tmp_path / "e.pdf"
    assert "2 etiqueta(s)" in run("etiquetas", "CARP-000001", "CAJA-000001", "-o", str(out_pdf))
    assert out_pdf.read_bytes().startswith(b"%PDF")
