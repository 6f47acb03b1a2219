"""People read Spanish words, never the archive's codes (issue 14).

A document goes through every kind of event a day brings (ingest, an edit of
each field, a NIS link and unlink, review decisions, a reception note, the
original viewed on the web, physical placement, a dispatch); its page must show
no action code (``fisico.documento_ubicar``), no field or value code
(``motivos: sin_nis,nis_desconocido``, ``tipo: otro``, ``via: web``) and an
edit's message names the fields in words.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from archive import physical as ph
from archive.db import session_scope
from archive.document_view import EventView
from archive.editing import add_note, confirm, reject
from archive.enums import DocumentStatus, Role
from archive.labels import ACTION_LABELS, detail_rows, field_list, identifier_label
from archive.models import Document
from archive.services import Services
from archivo_cli.bootstrap import initialize
from dispatch import Actor, add_document as dispatch_document, create_dispatch
from ingest.accept import accept_stream
from ingest.process import process_document
from tests import scans
from tests.conftest import make_services
from tests.web_support import ROLE_USERS, add_users, sign_in
from web import create_app

FILENAME = "escaneo.png"
# A code as the archive stores it: lower-case words joined by dots or underscores.
CODE = re.compile(r"(?<![\w./@-])[a-z]+(?:[._][a-z0-9]+)+(?![\w-])")


@dataclass
class Lived:
    svc: Services
    doc_id: int
    number: str
    archivist: FlaskClient
    token: str
    edit_flash: str


def _visible(page_html: str, start: str = "<main") -> str:
    """The text a person sees in <main> (from ``start``): no tags, attributes or scripts."""
    main = page_html[page_html.index(start):page_html.index("</main>")]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _history(page_html: str) -> str:
    return _visible(page_html, "<h2>Historial</h2>")


def _codes(text: str) -> list[str]:
    """Codes in ``text``, leaving out what people typed themselves (file and user names)."""
    for typed in (FILENAME, *ROLE_USERS.values()):
        text = text.replace(typed, "")
    return CODE.findall(text)


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lived]:
    tmp = tmp_path_factory.mktemp("palabras")
    svc = make_services(tmp / "var")
    svc.immediate_queue = True
    initialize(svc)
    add_users(svc)
    img, _ = scans.page(seed=5, doc_type="contrato")
    acc = accept_stream(svc, io.BytesIO(scans.png_bytes(img)), FILENAME, actor="prueba",
                        enqueue=False)  # no type given: recorded as «otro»
    process_document(svc, acc.document_id)
    app = create_app(svc)
    app.config["TESTING"] = True
    viewer = app.test_client()
    sign_in(viewer, ROLE_USERS["consulta"])
    assert viewer.get(f"/documentos/{acc.document_id}/original").status_code == 200  # via web
    archivist = app.test_client()
    token = sign_in(archivist, ROLE_USERS["archivista"])
    res = archivist.post(f"/documentos/{acc.document_id}/editar", follow_redirects=True, data={
        "csrf_token": token, "tipo": "orden_trabajo", "titulo": "Orden de conexión",
        "fecha": "2024-03-15", "expediente": "123/2024", "ot": "2024-000123"})
    flash = _visible(res.get_data(as_text=True))
    for path, nis in (("nis/vincular", "7654321"), ("nis/7654321/quitar", ""),
                      ("nis/vincular", "1234567")):
        archivist.post(f"/documentos/{acc.document_id}/{path}",
                       data={"csrf_token": token, "nis": nis})
    _review_twice(svc, acc.document_id)
    with session_scope(svc.sessions) as db:
        add_note(db, acc.archive_number, "Entregado en ventanilla", actor="archivista",
                 filename=FILENAME)
        shelf = ph.add_location(db, parent=None, name="Depósito central", actor="archivista")
        folder = ph.create_folder(db, description="Contratos", actor="archivista")
        ph.place_document(db, acc.archive_number, location=shelf.code, actor="archivista",
                          away=ph.NO_HOLDS)
        ph.place_document(db, acc.archive_number, folder=folder.code, actor="archivista",
                          away=ph.NO_HOLDS)
        ph.remove_document_place(db, acc.archive_number, actor="archivista")
    clerk = Actor("despacho", Role.DESPACHO)
    sent = create_dispatch(svc, clerk, "SUR")
    dispatch_document(svc, clerk, sent.id, archive_number=acc.archive_number)
    yield Lived(svc, acc.document_id, acc.archive_number, archivist, token, flash)
    svc.dispose()


def _review_twice(svc: Services, doc_id: int) -> None:
    """A confirmation and a rejection, each of a document waiting with coded reasons."""
    for decide in (lambda db, doc: confirm(db, doc, actor="archivista"),
                   lambda db, doc: reject(db, doc, "Ilegible", actor="archivista")):
        with session_scope(svc.sessions) as db:
            doc = db.get(Document, doc_id)
            assert doc is not None
            doc.status = DocumentStatus.REVISAR
            doc.review_reasons = "sin_nis,nis_desconocido"
            decide(db, doc)


def test_history_of_a_busy_document_has_no_codes(lived: Lived) -> None:
    res = lived.archivist.get(f"/documentos/{lived.doc_id}")
    assert res.status_code == 200
    history = _history(res.get_data(as_text=True))
    for label in ("Recibido", "Procesado (OCR)", "Datos editados", "NIS vinculado",
                  "NIS desvinculado", "Revisión: confirmado", "Revisión: rechazado",
                  "Nota de recepción", "Original consultado",
                  "Original guardado en el archivo físico",
                  "Original retirado de su lugar en el archivo físico"):
        assert label in history, label
    assert "Tipo: Otro" in history  # received without a type
    assert "Desde: la página web" in history
    assert "Motivos: No se encontró ningún NIS; NIS que no figura" in history
    assert "Tipo: Contrato de suministro → Orden de trabajo" in history  # as OCR classified it
    assert re.search(r"Fecha del documento: [^A-Za-z]* → 15/03/2024", history)
    assert "Origen: Manual" in history
    assert _codes(history) == []


def test_the_whole_document_page_shows_no_codes(lived: Lived) -> None:
    body = lived.archivist.get(f"/documentos/{lived.doc_id}").get_data(as_text=True)
    visible = _visible(body)
    assert "Error:" in visible and "rechazado_revision" not in visible  # the rejection
    assert _codes(visible) == [], _codes(visible)


def test_edit_message_names_the_fields_in_words(lived: Lived) -> None:
    assert ("Datos guardados: Tipo, Título, Fecha del documento, Expediente, Orden de trabajo."
            in lived.edit_flash)
    assert "titulo" not in lived.edit_flash


# Details as the recording code writes them, for events the busy document above does not get.
RECORDED = {
    "documento.dividir": {"paginas": 4, "separadores": [1, 3], "partes": [
        {"parte": 1, "documento": "ARC-2026-000002", "separador_hoja": 1, "nis": "4992383",
         "tipo": "contrato", "hojas": [2], "problema": "NIS con dígitos de más"}]},
    "documento.reconstruir": {"lote": "ARC-2026-000001", "parte": 2, "hojas": [3, 4],
                              "sha256_anterior": "ab" * 32, "sha256": "cd" * 32},
    "documento.vaciar": {"lote": "ARC-2026-000001"},
    "documento.rechazar": {"codigo": "solo_separadores", "motivo": "Solo hojas separadoras."},
    "documento.restaurar": {"modo": "existente", "numero_en_bolsa": "ARC-2020-000001",
                            "nis_agregados": ["4992383"], "identificadores_agregados": [],
                            "objetos_reparados": 2, "eventos": [{"accion": "documento.recibir"}]},
    "documento.derivados_regenerados": {"paginas": [{"pagina": 1, "faltaban": ["imagen"],
                                                     "danados": []}],
                                        "pdf": True, "pdf_estado": "falta", "texto_distinto": []},
    "lote.mover_paginas": {"hojas": [3], "desde": {"2": [3]}, "hacia": 1},
    "lote.unir": {"parte": 2, "en": 1},
    "lote.dividir_parte": {"parte": 1, "desde_hoja": 3, "nueva_parte": 3, "hojas": [3, 4],
                           "nis": "4992383", "tipo": "croquis_ubicacion"},
    "documento.accion_nueva": {"campo_nuevo": "valor"},
}


@pytest.mark.parametrize("action", sorted(RECORDED))
def test_every_recorded_event_reads_as_words(action: str) -> None:
    event = EventView(None, "sistema", action, RECORDED[action])
    shown = " ".join([event.action_label, *(f"{k}: {v}" for k, v in event.detail_rows)])
    assert _codes(shown) == [], shown
    assert "solo_separadores" not in shown


def test_every_document_action_has_a_label() -> None:
    for code, label in ACTION_LABELS.items():
        assert label and not CODE.search(label), code
    assert detail_rows("documento.ver_original", {"via": "api", "ip": "10.0.0.1"}) == [
        ("Desde", "la API"), ("Dirección IP", "10.0.0.1")]


def test_identifier_kinds_and_field_lists_are_words() -> None:
    assert identifier_label("cedula") == "Cédula"
    assert identifier_label("ruc_invalid") == "RUC (dígito verificador inválido)"
    assert field_list({"titulo": [], "expediente": []}) == "Título, Expediente"


def test_supply_history_says_the_link_origin_in_words(lived: Lived) -> None:
    body = lived.archivist.get("/suministros/1234567").get_data(as_text=True)
    history = _visible(body, 'id="historial"')
    assert "origen: Manual" in history and "origen: manual" not in history
