"""Supply file and review queue pages: roles, actions as an archivist, escaping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.db import read_scope, session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import AuditEvent, Document, Supply
from archive.registry import import_supplies, renumber_supply
from archive.services import Services
from archive.words import Word, words_blob
from tests.registry_helpers import HEADER, rows, write
from tests.test_supply_file import make_dispatch, make_document

REVISAR = DocumentStatus.REVISAR
XSS = "<script>alert('x')</script>"
ClientAs = Callable[[str], tuple[FlaskClient, str]]


@pytest.fixture
def registry(services: Services, tmp_path: Path) -> Services:
    """Supplies 1000000..1000003 (units CEN, SUR, EST, NOR); 1000001's holder is hostile."""
    import_supplies(services, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    with session_scope(services.sessions) as s:
        s.get(Supply, "1000001").holder_name = f"Pérez {XSS}"
    return services


def _doc(services: Services, doc_id: int) -> Document:
    with read_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        _ = doc.nis_list  # load the links before the session closes
        s.expunge(doc)
        return doc


def _actions(services: Services, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(actor, details) of each audit event with this action, oldest first."""
    with read_scope(services.sessions) as s:
        return [(e.actor, e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


# --------------------------------------------------------------------------- supply file


def test_supply_page_for_viewers_escapes_holder(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    doc = make_document(registry, ["1000001"], doc_type=DocumentType.CONTRATO,
                        date=dt.date(2021, 4, 5), title=f"Contrato {XSS}", pages=["a"])
    dispatch_number = make_dispatch(registry, doc)
    for role in ("consulta", "despacho", "archivista", "admin"):
        client, _ = client_as(role)
        res = client.get("/suministros/1000001")
        assert res.status_code == 200, role
        html = res.get_data(as_text=True)
        assert "Suministro NIS 1000001" in html and "Regional Sur (SUR)" in html
        assert XSS not in html and "&lt;script&gt;alert(" in html
        assert "Contrato de suministro" in html and "05/04/2021" in html
        assert f'href="/documentos/{doc}"' in html
        assert "Despachos (1)" in html and f'">{dispatch_number}</a>' in html
        assert 'href="/despachos/' in html  # the dispatch page, which every viewer may open
        editable = f"/suministros/1000001/desvincular/{doc}" in html
        assert editable == (role in ("archivista", "admin")), role
    regional, _ = client_as("regional")
    assert regional.get("/suministros/1000001").status_code == 403


def test_lookup_unknown_unregistered_and_renumbered(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    client, _ = client_as("consulta")
    form = client.get("/suministros")
    assert form.status_code == 200 and 'name="nis"' in form.get_data(as_text=True)
    res = client.get("/suministros?nis=1.000.002")
    assert res.status_code == 302 and res.headers["Location"].endswith("/suministros/1000002")
    bad = client.get("/suministros?nis=abc")
    assert bad.status_code == 422 and "no es un NIS válido" in bad.get_data(as_text=True)
    missing = client.get("/suministros/4444444")
    assert missing.status_code == 404
    assert "No hay datos del NIS 4444444" in missing.get_data(as_text=True)

    make_document(registry, ["5550001"])
    bare = client.get("/suministros/5550001").get_data(as_text=True)
    assert "no figura en el padrón de suministros" in bare

    renumber_supply(registry, "1000002", "7000002", actor="ana")
    old = client.get("/suministros/1000002")
    html = old.get_data(as_text=True)
    assert old.status_code == 200 and "Suministro NIS 7000002" in html
    assert "El NIS 1000002 fue renumerado en 7000002" in html
    assert "NIS anteriores de este suministro" in client.get("/suministros/7000002").get_data(as_text=True)


def test_archivist_links_and_unlinks_from_the_supply(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    doc = make_document(registry, [])
    number = _doc(registry, doc).archive_number
    client, token = client_as("archivista")
    res = client.post("/suministros/1000003/vincular", data={"numero": number.lower(), "csrf_token": token})
    assert res.status_code == 302 and res.headers["Location"].endswith("/suministros/1000003#documentos")
    assert _doc(registry, doc).nis_list == ["1000003"]
    page = client.get("/suministros/1000003").get_data(as_text=True)
    assert f"Documento {number} vinculado al NIS 1000003." in page
    assert "Documento vinculado" in page  # history
    assert _actions(registry, "documento.vincular")[-1][0] == "u_archivista"

    unknown = client.post("/suministros/1000003/vincular", data={"numero": "ARC-1-1", "csrf_token": token},
                          follow_redirects=True)
    assert "No existe el documento con número de archivo «ARC-1-1»" in unknown.get_data(as_text=True)

    res = client.post(f"/suministros/1000003/desvincular/{doc}", data={"csrf_token": token})
    assert res.status_code == 302 and _doc(registry, doc).nis_list == []
    assert _actions(registry, "documento.desvincular")[-1][1]["nis"] == "1000003"
    assert _doc(registry, doc).index_due

    viewer, vtoken = client_as("consulta")
    assert viewer.post("/suministros/1000003/vincular",
                       data={"numero": number, "csrf_token": vtoken}).status_code == 403
    assert viewer.post(f"/suministros/1000003/desvincular/{doc}",
                       data={"csrf_token": vtoken}).status_code == 403
    assert _doc(registry, doc).nis_list == []


# --------------------------------------------------------------------------- review queue


def _review_doc(services: Services, **kw: Any) -> int:
    kw.setdefault("status", REVISAR)
    kw.setdefault("source", LinkSource.OCR)
    return make_document(services, **kw)


def test_queue_shows_image_marks_candidates_and_escapes_ocr(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    doc = _review_doc(registry, links={"1000001": 0.6, "9990001": 0.54}, reasons="nis_desconocido",
                      pages=[f"Primera página {XSS}", "Reclamo NIS 9.990.001"], page_keys=True)
    with read_scope(registry.sessions) as s:
        page = s.scalars(select(Document).where(Document.id == doc)).one().pages[1]
        words_key, number = page.words_key, page.number
    assert words_key and number == 2
    registry.store.put_bytes(words_key, words_blob([
        Word("Reclamo", 100, 200, 150, 30, 90.0, 0), Word("NIS", 260, 200, 60, 30, 90.0, 0),
        Word("9.990.001", 500, 280, 200, 28, 88.0, 0)]))
    other = _review_doc(registry, links={}, reasons="sin_nis", pages=[XSS])

    client, _ = client_as("archivista")
    res = client.get("/revision")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert html.index(f"doc-{doc}") < html.index(f"doc-{other}")
    assert f'src="/documentos/{doc}/paginas/2/imagen"' in html
    # 500/1000 px = 50 %, 280/1400 px = 20 %, minus the 0.4 % margin
    assert 'style="left: 49.6%; top: 19.6%; width: 20.8%; height: 2.8%;" title="NIS 9990001"' in html
    assert "NIS que no figura en el registro de suministros" in html
    assert "no figura</strong>" in html and "Pérez &lt;script&gt;" in html
    assert XSS not in html and "&lt;script&gt;alert(" in html
    assert 'value="1000001, 9990001"' in html  # correct form prefilled

    filtered = client.get("/revision?motivo=sin_nis").get_data(as_text=True)
    assert f"doc-{other}" in filtered and f"doc-{doc}" not in filtered
    by_unit = client.get("/revision?regional=SUR").get_data(as_text=True)
    assert f"doc-{doc}" in by_unit and f"doc-{other}" not in by_unit
    wrong = client.get("/revision?motivo=xx")
    assert wrong.status_code == 422 and "no es un motivo de revisión" in wrong.get_data(as_text=True)

    for role in ("consulta", "despacho", "regional"):
        c, _ = client_as(role)
        assert c.get("/revision").status_code == 403, role


def test_confirm_correct_reject_as_archivist(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    a = _review_doc(registry, links={"1000001": 0.6}, reasons="ocr_baja_confianza")
    b = _review_doc(registry, links={"9990001": 0.5}, reasons="nis_desconocido")
    c = _review_doc(registry, links={}, reasons="sin_nis")
    client, token = client_as("archivista")
    back = "/revision?motivo=ocr_baja_confianza"

    res = client.post(f"/revision/{a}/confirmar", data={"csrf_token": token, "volver": back})
    assert res.status_code == 302 and res.headers["Location"].endswith(back)
    done = _doc(registry, a)
    assert done.status is DocumentStatus.LISTO and done.review_reasons == "" and done.index_due
    assert _actions(registry, "revision.confirmar")[-1][0] == "u_archivista"
    flashed = client.get("/revision").get_data(as_text=True)
    assert f"Documento {done.archive_number} confirmado" in flashed

    res = client.post(f"/revision/{b}/corregir", data={
        "csrf_token": token, "nis": "1.000.002, 1000003", "tipo": "croquis"})
    assert res.status_code == 302
    fixed = _doc(registry, b)
    assert fixed.status is DocumentStatus.LISTO and fixed.nis_list == ["1000002", "1000003"]
    assert fixed.doc_type is DocumentType.CROQUIS

    refused = client.post(f"/revision/{c}/rechazar", data={"csrf_token": token, "motivo": "  "},
                          follow_redirects=True)
    assert "Indique por qué se rechaza" in refused.get_data(as_text=True)
    assert _doc(registry, c).status is REVISAR
    client.post(f"/revision/{c}/rechazar", data={"csrf_token": token, "motivo": "Hoja en blanco"})
    rejected = _doc(registry, c)
    assert rejected.status is DocumentStatus.ERROR and rejected.error_code == "rechazado"
    assert "Hoja en blanco" in (rejected.error_message or "")

    again = client.post(f"/revision/{a}/confirmar", data={"csrf_token": token}, follow_redirects=True)
    assert "no está para revisar" in again.get_data(as_text=True)
    assert client.post("/revision/999999/confirmar", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/revision/{a}/confirmar", data={"volver": back}).status_code == 400  # no CSRF

    viewer, vtoken = client_as("consulta")
    for path in (f"/revision/{c}/confirmar", f"/revision/{c}/corregir", f"/revision/{c}/rechazar",
                 "/revision/confirmar-seleccion"):
        assert viewer.post(path, data={"csrf_token": vtoken, "ids": [str(c)]}).status_code == 403


def test_bulk_confirm_reports_what_could_not_be_confirmed(app: Flask, client_as: ClientAs,
        registry: Services) -> None:
    ok1 = _review_doc(registry, links={"1000000": 0.7}, reasons="ocr_baja_confianza")
    ok2 = _review_doc(registry, links={"1000001": 0.6, "1000002": 0.6}, reasons="tipo_incierto")
    no_nis = _review_doc(registry, links={}, reasons="sin_nis")
    client, token = client_as("archivista")
    res = client.post("/revision/confirmar-seleccion", data={
        "csrf_token": token, "ids": [str(ok1), str(ok2), str(no_nis), "abc"], "volver": "//evil.example"},
        follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/revision")
    assert [_doc(registry, d).status for d in (ok1, ok2, no_nis)] == [
        DocumentStatus.LISTO, DocumentStatus.LISTO, REVISAR]
    page = client.get("/revision").get_data(as_text=True)
    assert "Confirmados 2 documento(s)" in page and "no tiene ningún NIS" in page
    assert f"doc-{no_nis}" in page and f"doc-{ok1}" not in page
    empty = client.post("/revision/confirmar-seleccion", data={"csrf_token": token}, follow_redirects=True)
    assert "No seleccionó ningún documento" in empty.get_data(as_text=True)
