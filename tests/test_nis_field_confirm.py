"""A doubtful NIS (wrong length, not in the registry) is saved only on a confirmed second submit."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from archive import physical as ph
from archive.db import read_scope, session_scope
from archive.enums import DocumentStatus, LinkSource
from archive.errors import ArchivoError
from archive.models import Document
from archive.nis_check import check_nis
from archive.registry import import_supplies
from archive.services import Services
from tests import scans
from tests.registry_helpers import HEADER, rows, write
from tests.test_supply_file import make_document

ClientAs = Callable[[str], tuple[FlaskClient, str]]
ASK = "Todavía no se guardó nada"


@pytest.fixture
def registry(services: Services, tmp_path: Path) -> Services:
    """Supplies 1000000..1000003 are in the registry."""
    import_supplies(services, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    return services


def _nis_of(services: Services, doc_id: int) -> tuple[list[str], DocumentStatus]:
    with read_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        return doc.nis_list, doc.status


def _key(html: str) -> str:
    match = re.search(r'name="confirmar_nis" value="([^"]*)"', html)
    assert match, "falta la casilla de confirmación"
    return match.group(1)


def test_check_without_registry_warns_on_length_only(services: Services) -> None:
    with read_scope(services.sessions) as s:
        assert check_nis(s, ["4.992.383"]).warnings == []
        for typed in ("12345", "123456", "12345678"):
            [warning] = check_nis(s, [typed]).warnings
            assert f"El NIS {typed} tiene {len(typed)} dígitos" in warning.message
            assert "padrón" not in warning.message  # no registry imported: not a word about it
        for bad in ("12a4567", "1234", "1234567890123"):
            with pytest.raises(ArchivoError, match="no es un NIS válido"):
                check_nis(s, [bad])


def test_check_with_registry_warns_on_unknown_numbers(registry: Services) -> None:
    with read_scope(registry.sessions) as s:
        assert check_nis(s, ["1000001"]).warnings == []
        [w] = check_nis(s, ["7777777"]).warnings
        assert w.message == "El NIS 7777777 no figura en el padrón de suministros."
        [w] = check_nis(s, ["123456"]).warnings
        assert "no figura en el padrón" in w.message and "6 dígitos" in w.message


def test_review_correction_asks_then_saves(app: Flask, client_as: ClientAs,
                                           registry: Services) -> None:
    doc = make_document(registry, {"1000001": 0.6}, status=DocumentStatus.REVISAR,
                        source=LinkSource.OCR, reasons="sin_nis")
    client, token = client_as("archivista")
    form = {"nis": "123456", "tipo": "contrato", "volver": "/revision?motivo=sin_nis",
            "csrf_token": token}
    res = client.post(f"/revision/{doc}/corregir", data=form)
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and ASK in html
    assert "El NIS 123456 no figura en el padrón de suministros" in html
    assert 'value="123456"' in html  # what was typed, still editable
    assert 'name="tipo" value="contrato"' in html and 'value="/revision?motivo=sin_nis"' in html
    assert _nis_of(registry, doc) == (["1000001"], DocumentStatus.REVISAR)

    res = client.post(f"/revision/{doc}/corregir", data=form | {"confirmar_nis": _key(html)})
    assert res.status_code == 302 and res.headers["Location"].endswith("/revision?motivo=sin_nis")
    assert _nis_of(registry, doc) == (["123456"], DocumentStatus.LISTO)


def test_review_correction_with_a_changed_number_is_checked_again(app: Flask,
        client_as: ClientAs, registry: Services) -> None:
    doc = make_document(registry, {"1000001": 0.6}, status=DocumentStatus.REVISAR,
                        source=LinkSource.OCR, reasons="sin_nis")
    client, token = client_as("archivista")
    # The box was ticked for 123456, but the person then typed another doubtful number.
    res = client.post(f"/revision/{doc}/corregir", data={
        "nis": "7777777", "confirmar_nis": "123456", "csrf_token": token})
    assert res.status_code == 200 and "El NIS 7777777 no figura" in res.get_data(as_text=True)
    res = client.post(f"/revision/{doc}/corregir", data={"nis": "1000002", "csrf_token": token})
    assert res.status_code == 302 and _nis_of(registry, doc)[0] == ["1000002"]


def test_review_refuses_what_cannot_be_a_nis(app: Flask, client_as: ClientAs,
                                             registry: Services) -> None:
    doc = make_document(registry, {"1000001": 0.6}, status=DocumentStatus.REVISAR,
                        source=LinkSource.OCR, reasons="sin_nis")
    client, token = client_as("archivista")
    res = client.post(f"/revision/{doc}/corregir", data={"nis": "12a4567", "csrf_token": token},
                      follow_redirects=True)
    assert "«12a4567» no es un NIS válido" in res.get_data(as_text=True)
    assert _nis_of(registry, doc) == (["1000001"], DocumentStatus.REVISAR)


def test_document_page_link_asks_then_links(app: Flask, client_as: ClientAs,
                                            registry: Services) -> None:
    doc = make_document(registry, ["1000001"])
    client, token = client_as("archivista")
    page = client.get(f"/documentos/{doc}").get_data(as_text=True)
    assert f'action="/documentos/{doc}/nis/vincular"' in page
    res = client.post(f"/documentos/{doc}/nis/vincular",
                      data={"nis": "12345678", "csrf_token": token})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and ASK in html and "El NIS 12345678 no figura" in html
    assert _nis_of(registry, doc)[0] == ["1000001"]
    res = client.post(f"/documentos/{doc}/nis/vincular", data={
        "nis": "12345678", "confirmar_nis": _key(html), "csrf_token": token})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/documentos/{doc}")
    assert _nis_of(registry, doc)[0] == ["1000001", "12345678"]
    # a known number is linked at once
    res = client.post(f"/documentos/{doc}/nis/vincular",
                      data={"nis": "1000002", "csrf_token": token})
    assert res.status_code == 302 and "1000002" in _nis_of(registry, doc)[0]


def test_without_registry_a_seven_digit_number_needs_no_confirmation(app: Flask,
        client_as: ClientAs, services: Services) -> None:
    doc = make_document(services, [])
    client, token = client_as("archivista")
    res = client.post(f"/documentos/{doc}/nis/vincular",
                      data={"nis": "7777777", "csrf_token": token})
    assert res.status_code == 302 and _nis_of(services, doc)[0] == ["7777777"]
    res = client.post(f"/documentos/{doc}/nis/vincular",
                      data={"nis": "77777", "csrf_token": token})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "tiene 5 dígitos" in html and "padrón" not in html


def _documents(services: Services) -> int:
    with read_scope(services.sessions) as s:
        return s.scalar(select(func.count(Document.id))) or 0


def test_upload_form_without_script_asks_and_keeps_the_fields(app: Flask, client_as: ClientAs,
                                                              registry: Services) -> None:
    client, token = client_as("archivista")
    img, _ = scans.page(seed=5, doc_type="contrato")
    data = scans.png_bytes(img)
    form = {"nis": "1000001, 123456", "tipo": "contrato", "notas": "ventanilla 2",
            "csrf_token": token}
    res = client.post("/subir", data=form | {"archivo": (io.BytesIO(data), "a.png")},
                      content_type="multipart/form-data")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "Revise el NIS antes de subir" in html
    assert "El NIS 123456 no figura en el padrón de suministros" in html
    assert "El NIS 1000001" not in html  # only the doubtful one is named
    assert 'value="1000001, 123456"' in html and "ventanilla 2</textarea>" in html
    assert _documents(registry) == 0
    res = client.post("/subir", data=form | {"archivo": (io.BytesIO(data), "a.png"),
                                             "confirmar_nis": _key(html)},
                      content_type="multipart/form-data")
    assert res.status_code == 200 and "recibido como ARC-" in res.get_data(as_text=True)
    assert _documents(registry) == 1


def test_upload_script_endpoints_check_and_refuse_unconfirmed(app: Flask, client_as: ClientAs,
                                                              registry: Services) -> None:
    client, token = client_as("archivista")
    check = client.get("/subir/nis?nis=1000001,7777777").get_json()
    assert check["nis"] == ["1000001", "7777777"] and check["clave"] == "1000001,7777777"
    assert [a["nis"] for a in check["avisos"]] == ["7777777"]
    bad = client.get("/subir/nis?nis=abc")
    assert bad.status_code == 422 and "no es un NIS válido" in bad.get_json()["mensaje"]
    img, _ = scans.page(seed=6, doc_type="contrato")
    post = {"archivo": (io.BytesIO(scans.png_bytes(img)), "b.png"), "nis": "7777777"}
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    res = client.post("/subir/archivo", data=dict(post), headers=headers,
                      content_type="multipart/form-data")
    assert res.status_code == 422 and res.get_json()["error"] == "nis_sin_confirmar"
    assert "7777777 no figura en el padrón" in res.get_json()["mensaje"]
    post["archivo"] = (io.BytesIO(scans.png_bytes(img)), "b.png")
    res = client.post("/subir/archivo", data=post | {"confirmar_nis": "7777777"},
                      headers=headers, content_type="multipart/form-data")
    assert res.status_code == 202 and res.get_json()["nis"] == ["7777777"]
    page = client.get("/subir").get_data(as_text=True)
    assert 'data-nis-url="/subir/nis"' in page and 'id="casilla-confirmar-nis"' in page


@pytest.fixture
def box(services: Services) -> str:
    with session_scope(services.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana")
        sala = ph.add_location(db, parent=dep.code, actor="ana")
        est = ph.add_location(db, parent=sala.code, name="Estante A", actor="ana")
        ph.add_location(db, parent=est.code, name="Contratos 2016", actor="ana")
    return "CAJA-000001"


def _folder_nis(services: Services, code: str) -> str | None:
    with read_scope(services.sessions) as s:
        return s.scalar(select(ph.Folder.nis).where(ph.Folder.code == code))


def test_folder_forms_ask_then_save(app: Flask, client_as: ClientAs, registry: Services,
                                    box: str) -> None:
    client, token = client_as("archivista")
    form = {"nis": "123456", "descripcion": "Legajo", "ubicacion": box, "volver": "ubicacion",
            "csrf_token": token}
    res = client.post("/fisico/carpetas", data=form)
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and ASK in html and "El NIS 123456 no figura" in html
    assert 'name="descripcion" value="Legajo"' in html and f'name="ubicacion" value="{box}"' in html
    with read_scope(registry.sessions) as s:
        assert s.scalar(select(func.count(ph.Folder.id))) == 0
    res = client.post("/fisico/carpetas", data=form | {"confirmar_nis": _key(html)})
    assert res.status_code == 302 and _folder_nis(registry, "CARP-000001") == "123456"

    edit = {"nis": "1234567", "descripcion": "Legajo", "csrf_token": token}
    res = client.post("/fisico/carpeta/CARP-000001/editar", data=edit)
    assert res.status_code == 200 and "El NIS 1234567 no figura" in res.get_data(as_text=True)
    assert _folder_nis(registry, "CARP-000001") == "123456"
    res = client.post("/fisico/carpeta/CARP-000001/editar", data=edit | {"nis": "1000003"})
    assert res.status_code == 302 and _folder_nis(registry, "CARP-000001") == "1000003"
    # saving the form with the number it already has asks nothing
    res = client.post("/fisico/carpeta/CARP-000001/editar", data=edit | {"nis": "1000003"})
    assert res.status_code == 302
    bad = client.post("/fisico/carpeta/CARP-000001/editar", data=edit | {"nis": "CARP"},
                      follow_redirects=True)
    assert "no es un NIS válido" in bad.get_data(as_text=True)


def test_batch_split_asks_before_giving_the_new_part_a_doubtful_nis(
        app: Flask, client_as: ClientAs, services: Services, tmp_path: Path) -> None:
    from tests.test_web_batches import flashed, flat, ingest_stack

    _, batch_id = ingest_stack(services, tmp_path)
    client, token = client_as("archivista")
    form = {"parte": "1", "desde": "4", "nis": "123456", "tipo": "croquis", "csrf_token": token}
    res = client.post(f"/lotes/{batch_id}/dividir", data=form)
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and ASK in html and "El NIS 123456 tiene 6 dígitos" in html
    assert 'name="desde" value="4"' in html and 'name="tipo" value="croquis"' in html
    res = client.post(f"/lotes/{batch_id}/dividir", data=form | {"confirmar_nis": _key(html)})
    assert res.status_code == 302
    text = flat(client.get(res.headers["Location"]).get_data(as_text=True))
    assert flashed(text)[0].startswith("Parte 1 dividida antes de la hoja 4: desde ahí es la "
                                       "parte nueva 3 con el NIS 123456.")
