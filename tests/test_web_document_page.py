"""The document page: viewer with hits marked, images and downloads, archivist edits, escaping.

One real two-page scan is ingested (real Tesseract) once per module and
shared; tests that change it only change what no other test looks at.
Documents made of bare rows (``tests.search_support.add_document``)
stand in where only the page text matters, such as the XSS checks.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from archive.db import session_scope
from archive.enums import DocumentType
from archive.models import AuditEvent, Document, DocumentSupply, Page, Supply
from archive.services import Services
from archivo_cli.bootstrap import initialize
from ingest.accept import accept_stream
from ingest.process import process_document
from search.indexer import index_pending
from search.query import search
from tests import scans
from tests.conftest import make_services
from tests.search_support import add_document
from tests.web_support import ROLE_USERS, add_users, sign_in
from web import create_app
from web.search_pages import supply_url

HIT_WORD = "transformador"
PAGE2_LINES = ["ANEXO DE INSPECCION TECNICA", "",
               "Se verifico el transformador del barrio San Miguel.",
               "La cuadrilla retiro el medidor para su control."]


@dataclass
class WebArchive:
    """An ingested two-page scan, an app over it, and one signed-in client per role."""

    svc: Services
    app: Flask
    doc_id: int
    number: str
    nis: str
    original: bytes
    _clients: dict[str, tuple[FlaskClient, str]] = field(default_factory=dict)

    def client(self, role: str) -> tuple[FlaskClient, str]:
        """Signed in once per role (the login rate limit counts sign-ins per app)."""
        if role not in self._clients:
            c = self.app.test_client()
            self._clients[role] = (c, sign_in(c, ROLE_USERS[role]))
        return self._clients[role]

    def get(self, role: str, url: str):  # type: ignore[no-untyped-def]
        return self.client(role)[0].get(url)

    def post(self, role: str, url: str, data: dict[str, str] | None = None, *,
             csrf: bool = True):  # type: ignore[no-untyped-def]
        client, token = self.client(role)
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = token
        return client.post(url, data=form)


def build_archive(tmp_path: Path) -> WebArchive:
    svc = make_services(tmp_path / "var")
    svc.immediate_queue = True  # request_indexing after an edit runs the indexer in-line
    initialize(svc)
    add_users(svc)
    first, nis = scans.page(seed=3, doc_type="contrato")
    second, _ = scans.page(seed=4, lines=PAGE2_LINES)
    path = scans.write([first, second], tmp_path / "carpeta.tif", "TIFF",
                       compression="tiff_deflate", dpi=(150, 150))
    with path.open("rb") as fh:
        acc = accept_stream(svc, fh, path.name, actor="prueba", enqueue=False)
    process_document(svc, acc.document_id)
    index_pending(svc)
    app = create_app(svc)
    app.config["TESTING"] = True
    return WebArchive(svc, app, acc.document_id, acc.archive_number, nis[0], path.read_bytes())


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebArchive]:
    arch = build_archive(tmp_path_factory.mktemp("web_documento"))
    yield arch
    arch.svc.dispose()


def text_of(res) -> str:  # type: ignore[no-untyped-def]
    return res.get_data(as_text=True)


def boxes_in(page_html: str) -> list[dict]:
    """The hit boxes the viewer script draws: JSON in the data-cajas attribute."""
    m = re.search(r"data-cajas='([^']*)'", page_html)
    assert m, "la página no trae las cajas del visor"
    return json.loads(html.unescape(m.group(1)))


def page_row(svc: Services, doc_id: int, number: int) -> Page:
    with session_scope(svc.sessions) as s:
        row = s.scalar(select(Page).where(Page.document_id == doc_id, Page.number == number))
        assert row is not None
        return row


# --------------------------------------------------------------------------- viewer


def test_document_opened_from_a_search_marks_the_hits_on_the_page(archive: WebArchive) -> None:
    res = archive.get("consulta", f"/documentos/{archive.doc_id}?pagina=2&q={HIT_WORD}")
    assert res.status_code == 200
    body = text_of(res)
    assert archive.number in body and "Página 2 de 2" in body
    page = page_row(archive.svc, archive.doc_id, 2)
    boxes = boxes_in(body)
    assert boxes and all(HIT_WORD in b["texto"].lower() for b in boxes)
    for b in boxes:  # pixels of the web image, which is what the page records as its size
        assert 0 <= b["x"] < b["x"] + b["ancho"] <= page.width
        assert 0 <= b["y"] < b["y"] + b["alto"] <= page.height
    # the OCR text beside the image, with the hit marked
    assert re.search(rf"<mark>{HIT_WORD}</mark>", body, re.I)
    assert f'src="/documentos/{archive.doc_id}/paginas/2/imagen"' in body
    # thumbnails strip and the script that draws the boxes (no inline script: CSP)
    assert f"/documentos/{archive.doc_id}/paginas/1/miniatura" in body
    assert '<script src="/static/visor.js">' in body and "<script>" not in body
    # page 1 has no hit: no boxes there, and the notice points to page 2
    other = text_of(archive.get("consulta", f"/documentos/{archive.doc_id}?pagina=1&q={HIT_WORD}"))
    assert boxes_in(other) == [] and "páginas con coincidencias" in other


def test_without_a_page_number_the_first_page_with_a_hit_opens(archive: WebArchive) -> None:
    body = text_of(archive.get("despacho", f"/documentos/{archive.doc_id}?q=transformadores"))
    assert "Página 2 de 2" in body  # the plural finds the singular, as the search does
    assert boxes_in(body)
    plain = text_of(archive.get("despacho", f"/documentos/{archive.doc_id}"))
    assert "Página 1 de 2" in plain and boxes_in(plain) == []


def test_nis_query_marks_the_number_on_the_page(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"/documentos/{archive.doc_id}?q={archive.nis}"))
    assert "Página 1 de 2" in body
    assert [b for b in boxes_in(body) if archive.nis in b["texto"].replace(".", "")]


def test_bad_query_in_the_viewer_is_explained_not_fatal(archive: WebArchive) -> None:
    res = archive.get("consulta", f'/documentos/{archive.doc_id}?q="sin cerrar')
    assert res.status_code == 200
    assert "No se marcan coincidencias" in text_of(res) and "comillas" in text_of(res)


def test_metadata_links_status_and_history_are_shown(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"/documentos/{archive.doc_id}"))
    assert archive.nis in body and "Reconocido por OCR" in body
    with archive.app.test_request_context():
        assert f'href="{supply_url(archive.nis)}"' in body  # the supply file, when it exists
    assert "Contrato de suministro" in body
    assert "Recibido" in body and "Procesado (OCR)" in body  # audit history
    assert f'href="/documentos/{archive.doc_id}/original"' in body
    assert f'href="/documentos/{archive.doc_id}/pdf"' in body


def test_missing_document_and_page_are_404_in_spanish(archive: WebArchive) -> None:
    res = archive.get("consulta", "/documentos/999999")
    assert res.status_code == 404 and "No existe el documento" in text_of(res)
    res = archive.get("consulta", f"/documentos/{archive.doc_id}/paginas/7/imagen")
    assert res.status_code == 404 and "No hay imagen de la página 7" in text_of(res)
    res = archive.get("consulta", "/documentos/999999/pdf")
    assert res.status_code == 404 and "No existe el documento" in text_of(res)


# --------------------------------------------------------------------------- images, downloads


def test_page_image_and_thumbnail_are_served_inline_with_a_short_private_cache(
        archive: WebArchive) -> None:
    page = page_row(archive.svc, archive.doc_id, 2)
    res = archive.get("consulta", f"/documentos/{archive.doc_id}/paginas/2/imagen")
    assert res.status_code == 200 and res.mimetype == "image/jpeg"
    assert res.headers["Content-Disposition"] == f'inline; filename="{archive.number}-p0002.jpg"'
    assert res.headers["Cache-Control"] == "private, max-age=300"
    assert Image.open(io.BytesIO(res.data)).size == (page.width, page.height)
    thumb = archive.get("consulta", f"/documentos/{archive.doc_id}/paginas/2/miniatura")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size[0] < page.width


def test_original_and_searchable_pdf_download_as_attachments(archive: WebArchive) -> None:
    res = archive.get("despacho", f"/documentos/{archive.doc_id}/original")
    assert res.status_code == 200 and res.mimetype == "image/tiff"
    assert res.headers["Content-Disposition"] == \
        f'attachment; filename="{archive.number}-original.tif"'
    assert res.data == archive.original
    pdf = archive.get("consulta", f"/documentos/{archive.doc_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{archive.number}.pdf"'
    assert pdf.data.startswith(b"%PDF")


def test_a_document_without_pdf_says_so(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Documento cargado sin PDF"])
    res = archive.get("consulta", f"/documentos/{bare}/pdf")
    assert res.status_code == 404 and "todavía no tiene PDF" in text_of(res)


# --------------------------------------------------------------------------- edits


def test_archivist_edits_metadata_audited_indexed_and_in_history(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Nota de escribania sobre el inmueble"], nis=["1234567"])
    index_pending(archive.svc)
    res = archive.post("archivista", f"/documentos/{bare}/editar", {
        "tipo": "nota_escribania", "titulo": "Nota del escribano Benítez",
        "fecha": "2024-03-15", "expediente": "123/2024", "ot": "2024-001234"})
    assert res.status_code == 302 and res.headers["Location"].startswith(f"/documentos/{bare}")
    body = text_of(archive.get("archivista", res.headers["Location"]))
    assert "Datos guardados" in body
    assert "Nota del escribano Benítez" in body and "15/03/2024" in body and "123/2024" in body
    assert "Datos editados" in body and "u_archivista" in body  # history
    with session_scope(archive.svc.sessions) as s:
        doc = s.get(Document, bare)
        assert doc is not None and doc.doc_type is DocumentType.NOTA_ESCRIBANIA
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "documento.editar",
            AuditEvent.object_id == doc.archive_number)).one()
        assert event.actor == "u_archivista" and event.details["titulo"][1] == \
            "Nota del escribano Benítez"
        number = doc.archive_number
    # the indexer was woken after the commit: the search sees the new type at once
    found = search(archive.svc, "escribania", filters={"tipo": "nota_escribania"})
    assert [h.archive_number for h in found.hits] == [number]
    # nothing changed: said so, nothing audited
    again = archive.post("archivista", f"/documentos/{bare}/editar", {"tipo": "nota_escribania"})
    assert "No había cambios" in text_of(archive.get("archivista", again.headers["Location"]))
    # the form posts every field: a blank date or expediente clears it
    archive.post("archivista", f"/documentos/{bare}/editar", {
        "tipo": "nota_escribania", "fecha": "", "expediente": "", "ot": "2024-001234"})
    with session_scope(archive.svc.sessions) as s:
        doc = s.get(Document, bare)
        assert doc.document_date is None and doc.expediente is None
        assert doc.ot_number == "2024-001234"


def test_bad_edit_values_are_refused_with_a_spanish_message(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Texto"])
    for url, data, message in (
            ("editar", {"fecha": "31/02/2024"}, "no es una fecha válida"),
            ("editar", {"tipo": "inventado"}, "no es un tipo de documento"),
            ("nis/vincular", {"nis": "12ab"}, "no es un NIS válido")):
        res = archive.post("archivista", f"/documentos/{bare}/{url}", data)
        assert message in text_of(archive.get("archivista", res.headers["Location"]))
    res = archive.post("archivista", "/documentos/999999/editar", {"titulo": "x"})
    assert res.status_code == 404


def test_archivist_links_and_unlinks_a_supply(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Croquis de ubicación"])
    with session_scope(archive.svc.sessions) as s:
        s.add(Supply(nis="4992383", holder_name="Graciela Báez"))
    res = archive.post("archivista", f"/documentos/{bare}/nis/vincular", {"nis": "4.992.383"})
    body = text_of(archive.get("archivista", res.headers["Location"]))
    assert "NIS 4992383 vinculado" in body
    assert "Graciela Báez" in body and "Manual" in body and "NIS vinculado" in body
    assert f'action="/documentos/{bare}/nis/4992383/quitar"' in body
    res = archive.post("archivista", f"/documentos/{bare}/nis/4992383/quitar")
    body = text_of(archive.get("archivista", res.headers["Location"]))
    assert "NIS 4992383 desvinculado" in body and "NIS desvinculado" in body
    with session_scope(archive.svc.sessions) as s:
        links = s.scalars(select(DocumentSupply).where(DocumentSupply.document_id == bare))
        assert links.all() == []
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "u_archivista")
                            .where(AuditEvent.action.like("documento.%vincular"))).all()
        assert {"documento.vincular", "documento.desvincular"} <= set(actions)


def test_admin_may_edit_too(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Texto"])
    body = text_of(archive.get("admin", f"/documentos/{bare}"))
    assert f'action="/documentos/{bare}/editar"' in body
    res = archive.post("admin", f"/documentos/{bare}/editar", {"titulo": "Por el administrador"})
    assert "Datos guardados" in text_of(archive.get("admin", res.headers["Location"]))


@pytest.mark.parametrize("role", ["consulta", "despacho"])
def test_readers_see_no_forms_and_cannot_post(archive: WebArchive, role: str) -> None:
    bare = add_document(archive.svc, ["Texto original"], nis=["7654321"], title="Antes")
    body = text_of(archive.get(role, f"/documentos/{bare}"))
    assert "Editar datos" not in body and "/editar" not in body and "/quitar" not in body
    assert 'name="nis"' not in body
    for url, data in ((f"/documentos/{bare}/editar", {"titulo": "Después"}),
                      (f"/documentos/{bare}/nis/vincular", {"nis": "1234567", "confirmar_nis": "1234567"}),
                      (f"/documentos/{bare}/nis/7654321/quitar", {})):
        assert archive.post(role, url, data).status_code == 403
    with session_scope(archive.svc.sessions) as s:
        doc = s.get(Document, bare)
        assert doc is not None and doc.title == "Antes" and doc.nis_list == ["7654321"]


def test_edit_without_csrf_token_is_refused(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Texto"], title="Sin cambio")
    res = archive.post("archivista", f"/documentos/{bare}/editar", {"titulo": "Otro"}, csrf=False)
    assert res.status_code == 400
    with session_scope(archive.svc.sessions) as s:
        assert s.get(Document, bare).title == "Sin cambio"  # type: ignore[union-attr]


def test_regional_role_cannot_open_documents(archive: WebArchive) -> None:
    for url in (f"/documentos/{archive.doc_id}", f"/documentos/{archive.doc_id}/original",
                f"/documentos/{archive.doc_id}/paginas/1/imagen"):
        assert archive.get("regional", url).status_code == 403


# --------------------------------------------------------------------------- untrusted text


def test_script_in_ocr_text_is_shown_escaped(archive: WebArchive) -> None:
    bare = add_document(archive.svc, ["Pagina limpia"])
    with session_scope(archive.svc.sessions) as s:
        row = s.scalar(select(Page).where(Page.document_id == bare))
        assert row is not None
        row.text = 'Aviso <script>alert(1)</script> & <img src=x onerror="alert(2)"> medidor'
        row.document.title = "<b>título</b>"
        row.document.index_due = True
    index_pending(archive.svc)
    for query in ("", "?q=alert", "?q=medidor"):
        url = f"/documentos/{bare}{query}"
        body = text_of(archive.get("consulta", url))
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>título" not in body
        assert "&lt;b&gt;título&lt;/b&gt;" in body
        unmarked = body.replace("<mark>alert</mark>", "alert")
        assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in unmarked
    plain = text_of(archive.get("consulta", f"/documentos/{bare}?q=medidor"))
    assert "Aviso &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img" in plain
    assert "<mark>medidor</mark>" in plain
    marked = text_of(archive.get("consulta", f"/documentos/{bare}?q=alert"))
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in marked


def test_identifiers_read_show_their_kind_in_words(archive: WebArchive) -> None:
    from archive.models import DocumentIdentifier

    bare = add_document(archive.svc, ["Cédula de identidad 3.456.789"])
    with session_scope(archive.svc.sessions) as s:
        s.add(DocumentIdentifier(document_id=bare, kind="cedula", value="3456789"))
    body = text_of(archive.get("consulta", f"/documentos/{bare}"))
    assert "Cédula 3456789" in body
    assert "cedula 3456789" not in body


@pytest.mark.parametrize("asked", ["7", "0"])
def test_a_page_that_does_not_exist_shows_the_nearest_with_a_message(archive: WebArchive,
                                                                      asked: str) -> None:
    """A recoverable mistake in the address: the document stays open, with a message."""
    res = archive.get("consulta", f"/documentos/{archive.doc_id}?pagina={asked}")
    body = text_of(res)
    assert res.status_code == 200
    assert f"no tiene página {asked}" in body and "se muestra la página" in body
