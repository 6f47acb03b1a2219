"""``/api/v1/documents``: upload, read, edit and download, with a real OCR'd scan."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.errors import StorageError
from archive.models import AuditEvent, Document, Page
from tests import scans
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import add_document as add_bare_document


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("api_documentos"))
    yield archive
    archive.services.dispose()


@pytest.fixture(scope="module")
def scan(arc: ApiArchive) -> dict[str, Any]:
    """One real scan uploaded through the API and OCR'd inline (immediate queue)."""
    img, nis = scans.page(seed=3, doc_type="contrato")
    data = scans.png_bytes(img)
    res = arc.upload("archivista", data, "contrato.png", notas="Caja 12, estante B")
    assert res.status_code == 202, res.get_data(as_text=True)
    return {"data": data, "nis": nis, "accepted": res.get_json(),
            "location": res.headers["Location"]}


def _get(arc: ApiArchive, url: str, role: str = "consulta"):  # type: ignore[no-untyped-def]
    return arc.client().get(url, headers=arc.headers(role))


def _bare_document(arc: ApiArchive, number: int, *, with_page_text: str | None = None,
                   status: DocumentStatus | None = None) -> int:
    doc_id = add_bare_document(arc.services, number, [])
    with session_scope(arc.services.sessions) as db:
        doc = db.get(Document, doc_id)
        assert doc is not None
        if status is not None:
            doc.status = status
        if with_page_text is not None:
            db.add(Page(document_id=doc_id, number=1, text=with_page_text))
            doc.page_count = 1
    return doc_id


# ----------------------------------------------------------------------------- upload + read

def test_upload_answers_202_and_the_document_is_ocrd(arc: ApiArchive, scan: dict[str, Any]) -> None:
    acc = scan["accepted"]
    assert acc["estado"] == "recibido" and acc["duplicado"] is False
    assert acc["numero"].startswith("ARC-") and acc["archivo"] == "contrato.png"
    assert scan["location"] == acc["url"] == f"http://localhost{API}/documents/{acc['id']}"

    res = _get(arc, acc["url"])
    assert res.status_code == 200
    doc = res.get_json()
    assert doc["id"] == acc["id"] and doc["numero"] == acc["numero"]
    assert doc["estado"] in ("listo", "revisar"), doc["motivos_revision"]
    assert doc["tipo"] == "contrato" and doc["error"] is None
    assert doc["nis"] == scan["nis"]
    assert [v["origen"] for v in doc["vinculos"]] == ["ocr"]
    assert doc["original"]["bytes"] == len(scan["data"])
    assert doc["original"]["tipo_mime"] == "image/png"
    assert doc["cantidad_paginas"] == 1 and len(doc["paginas"]) == 1
    page = doc["paginas"][0]
    assert "SUMINISTRO" in page["texto"].upper()
    base = f"http://localhost{API}/documents/{acc['id']}"
    assert page["imagen_url"] == f"{base}/pages/1/image"
    assert page["miniatura_url"] == f"{base}/pages/1/thumbnail"
    assert page["texto_url"] == f"{base}/pages/1/text"
    assert doc["pdf_url"] == f"{base}/pdf" and doc["original"]["url"] == f"{base}/original"
    notes = [e for e in doc["historial"] if e["accion"] == "documento.nota"]
    assert notes and notes[0]["detalles"] == {"notas": "Caja 12, estante B"}
    assert notes[0]["usuario"] == "u_archivista"

    lean = _get(arc, acc["url"] + "?texto=0").get_json()
    assert "texto" not in lean["paginas"][0] and lean["paginas"][0]["texto_url"]


def test_every_reading_role_sees_the_document_and_regional_does_not(
        arc: ApiArchive, scan: dict[str, Any]) -> None:
    url = scan["accepted"]["url"]
    for role in ("consulta", "archivista", "despacho", "admin"):
        assert _get(arc, url, role).status_code == 200, role
    assert error_of(_get(arc, url, "regional"))[0] == "prohibido"
    assert arc.client().get(url).status_code == 401
    res = arc.client().get(url, headers={"Authorization": "Bearer arc_falso"})
    assert res.status_code == 401 and "token" in error_of(res)[1]


def test_downloads_have_type_name_and_bytes(arc: ApiArchive, scan: dict[str, Any]) -> None:
    doc = _get(arc, scan["accepted"]["url"]).get_json()
    number = doc["numero"]

    original = _get(arc, doc["original"]["url"])
    assert original.status_code == 200 and original.data == scan["data"]
    assert original.mimetype == "image/png"
    assert original.headers["Content-Disposition"] == f'attachment; filename="{number}.png"'
    assert original.headers["X-Content-Type-Options"] == "nosniff"

    pdf = _get(arc, doc["pdf_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'

    page = doc["paginas"][0]
    for url in (page["imagen_url"], page["miniatura_url"]):
        img = _get(arc, url)
        assert img.status_code == 200 and img.mimetype == "image/jpeg", url
        assert img.data.startswith(b"\xff\xd8\xff")
        assert img.headers["Content-Disposition"].startswith("inline; ")
    full = _get(arc, page["imagen_url"]).data
    thumb = _get(arc, page["miniatura_url"]).data
    assert len(thumb) < len(full)

    text = _get(arc, page["texto_url"])
    assert text.status_code == 200 and text.content_type == "text/plain; charset=utf-8"
    assert text.get_data(as_text=True) == page["texto"]


def test_download_errors_are_json_404(arc: ApiArchive, scan: dict[str, Any]) -> None:
    doc_id = scan["accepted"]["id"]
    code, msg = error_of(_get(arc, f"{API}/documents/{doc_id}/pages/9/image"))
    assert code == "no_encontrado" and "página 9" in msg
    code, msg = error_of(_get(arc, f"{API}/documents/987654/pdf"))
    assert code == "no_encontrado" and "987654" in msg
    bare = _bare_document(arc, 900001)
    res = _get(arc, f"{API}/documents/{bare}/pdf")
    assert res.status_code == 404 and "todavía no tiene PDF" in error_of(res)[1]
    # the bare row points at an object that is not in storage
    res = _get(arc, f"{API}/documents/{bare}/original")
    assert res.status_code == 404 and "almacenamiento" in error_of(res)[1]
    res = _get(arc, f"{API}/documents/{bare}/pages/1/text")
    assert res.status_code == 404 and "no tiene página 1" in error_of(res)[1]


def test_ocr_text_is_served_as_text_never_as_html(arc: ApiArchive) -> None:
    evil = '<script>alert("x")</script> & <b>NIS</b>'
    doc_id = _bare_document(arc, 900002, with_page_text=evil, status=DocumentStatus.LISTO)
    res = _get(arc, f"{API}/documents/{doc_id}/pages/1/text")
    assert res.status_code == 200 and res.mimetype == "text/plain"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.get_data(as_text=True) == evil
    doc = _get(arc, f"{API}/documents/{doc_id}")
    assert doc.mimetype == "application/json"
    assert doc.get_json()["paginas"][0]["texto"] == evil
    assert doc.headers["X-Content-Type-Options"] == "nosniff"  # never sniffed as HTML


# ----------------------------------------------------------------------------- upload rules

def test_same_bytes_again_is_the_same_document(arc: ApiArchive, scan: dict[str, Any]) -> None:
    res = arc.upload("archivista", scan["data"], "otra-vez.png", nis="1234567")
    assert res.status_code == 202
    body = res.get_json()
    assert body["duplicado"] is True and body["id"] == scan["accepted"]["id"]
    assert "1234567" in body["nis"]


def test_type_and_nis_sent_with_the_file_are_kept(arc: ApiArchive, tmp_path: Path) -> None:
    pdf = scans.born_digital_pdf(tmp_path / "croquis.pdf",
                                 ["Croquis de ubicacion", "Barrio Obrero"])
    client = arc.client()
    res = client.post(f"{API}/documents", headers=arc.headers("archivista"),
                      content_type="multipart/form-data",
                      data={"archivo": (io.BytesIO(pdf.read_bytes()), "escaneos/croquis.pdf"),
                            "tipo": "Croquis de ubicación",
                            "nis": ["4.992.383, 1234567", "7654321"]})
    assert res.status_code == 202, res.get_data(as_text=True)
    body = res.get_json()
    assert body["nis"] == ["1234567", "4992383", "7654321"] and body["archivo"] == "croquis.pdf"
    doc = _get(arc, body["url"]).get_json()
    assert doc["tipo"] == "croquis"
    assert {v["nis"]: v["origen"] for v in doc["vinculos"]} == {
        "1234567": "manual", "4992383": "manual", "7654321": "manual"}


@pytest.mark.parametrize("form, status, needle", [
    ({"tipo": "factura"}, 422, "no es un tipo de documento"),
    ({"nis": "12"}, 422, "no es un NIS válido"),
    ({"notas": "x" * 2001}, 422, "2000 caracteres"),
])
def test_bad_upload_fields_are_422(arc: ApiArchive, form: dict[str, str], status: int,
                                   needle: str) -> None:
    res = arc.upload("archivista", b"%PDF-1.4 cualquier cosa", "a.pdf", **form)
    assert res.status_code == status
    assert needle in error_of(res)[1]


def test_upload_needs_a_multipart_file(arc: ApiArchive) -> None:
    client = arc.client()
    headers = arc.headers("archivista")
    res = client.post(f"{API}/documents", headers=headers, json={"archivo": "x"})
    assert res.status_code == 415 and error_of(res)[0] == "tipo_no_soportado"
    res = client.post(f"{API}/documents", headers=headers, data={"tipo": "contrato"},
                      content_type="multipart/form-data")
    assert res.status_code == 422 and "archivo" in error_of(res)[1]
    res = client.post(f"{API}/documents", headers=headers, content_type="multipart/form-data",
                      data={"archivo": [(io.BytesIO(b"a"), "a.pdf"), (io.BytesIO(b"b"), "b.pdf")]})
    assert res.status_code == 422 and "un solo archivo" in error_of(res)[1]
    res = arc.upload("archivista", b"", "vacio.pdf")
    assert res.status_code == 422 and "vacío" in error_of(res)[1]


@pytest.mark.parametrize("role, status", [("consulta", 403), ("despacho", 403),
                                          ("regional", 403)])
def test_only_archivists_upload(arc: ApiArchive, role: str, status: int) -> None:
    res = arc.upload(role, b"%PDF-1.4", "a.pdf")
    assert res.status_code == status and error_of(res)[0] == "prohibido"


def test_anonymous_upload_is_401(arc: ApiArchive) -> None:
    res = arc.client().post(f"{API}/documents", data={"archivo": (io.BytesIO(b"x"), "a.pdf")},
                            content_type="multipart/form-data")
    assert res.status_code == 401 and error_of(res)[0] == "no_autenticado"


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, n: int | None = -1) -> bytes:
        chunk = super().read(n)
        self.consumed += len(chunk)
        return chunk

    def readline(self, n: int | None = -1) -> bytes:
        chunk = super().readline(n)
        self.consumed += len(chunk)
        return chunk


def _multipart(filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "limite-de-prueba"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += payload + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path, immediate=False, ARCHIVO_MAX_ARCHIVO_MB="1")
    yield archive
    archive.services.dispose()


def test_oversize_upload_is_refused_before_the_body_is_read(small_limit: ApiArchive) -> None:
    body, ctype = _multipart("grande.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    stream = CountingStream(body)
    res = small_limit.client().post(f"{API}/documents", input_stream=stream,
                                    content_length=len(body), content_type=ctype,
                                    headers=small_limit.headers("archivista"))
    assert res.status_code == 413
    code, msg = error_of(res)
    assert code == "demasiado_grande" and "1 MB" in msg
    assert stream.consumed == 0
    assert list(small_limit.services.store.iterate("originals/")) == []


def test_a_file_just_over_the_limit_is_refused_while_stored(small_limit: ApiArchive) -> None:
    """Within the form allowance the announced size passes; the byte count still stops it."""
    body, ctype = _multipart("justo.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10))
    res = small_limit.client().post(f"{API}/documents", data=body, content_type=ctype,
                                    headers=small_limit.headers("archivista"))
    assert res.status_code == 413 and "1 MB" in error_of(res)[1]
    assert list(small_limit.services.store.iterate("originals/")) == []
    with session_scope(small_limit.services.sessions) as db:
        assert db.scalar(select(Document.id)) is None


# ----------------------------------------------------------------------------- edit

def test_patch_changes_metadata_and_links_and_reindexes(arc: ApiArchive,
                                                       scan: dict[str, Any]) -> None:
    url = scan["accepted"]["url"]
    res = arc.client().patch(url, headers=arc.headers("archivista"), json={
        "tipo": "orden_trabajo", "titulo": "  Orden revisada  ", "fecha": "2023-05-17",
        "expediente": "123/2024", "ot": "2024-001234", "nis": ["5.555.555", "4444444"]})
    assert res.status_code == 200, res.get_data(as_text=True)
    doc = res.get_json()
    assert doc["tipo"] == "orden_trabajo" and doc["titulo"] == "Orden revisada"
    assert doc["fecha"] == "2023-05-17" and doc["expediente"] == "123/2024"
    assert doc["ot"] == "2024-001234"
    assert doc["nis"] == ["4444444", "5555555"]
    assert all(v["origen"] == "manual" for v in doc["vinculos"])
    actions = [e["accion"] for e in doc["historial"]]
    assert "documento.editar" in actions and "documento.desvincular" in actions
    assert all(e["usuario"] == "u_archivista" for e in doc["historial"][:3])
    # the index caught up (the queue runs inline in this archive)
    found = _get(arc, f"{API}/search?nis=5555555").get_json()
    assert [h["documento_id"] for h in found["resultados"]] == [doc["id"]]
    # null or "" clear the date and the codes; back to the NIS the OCR found
    res = arc.client().patch(url, headers=arc.headers("archivista"), json={
        "fecha": None, "expediente": "", "ot": None, "nis": scan["nis"]})
    assert res.status_code == 200
    doc = res.get_json()
    assert (doc["fecha"], doc["expediente"], doc["ot"]) == (None, None, None)
    assert doc["nis"] == scan["nis"] and doc["titulo"] == "Orden revisada"


@pytest.mark.parametrize("body, needle", [
    ({"color": "rojo"}, "Campos desconocidos: color"),
    ({"tipo": "factura"}, "no es un tipo de documento"),
    ({"tipo": 3}, "«tipo» debe ser un texto"),
    ({"fecha": "17/05/2023"}, "AAAA-MM-DD"),
    ({"fecha": "1800-01-01"}, "entre 1900 y 2100"),
    ({"titulo": "x" * 301}, "300 caracteres"),
    ({"expediente": "1" * 41}, "40 caracteres"),
    ({"ot": 12}, "«ot» debe ser un texto o null"),
    ({"titulo": None}, "«titulo» debe ser un texto."),
    ({"nis": "4992383"}, "lista completa"),
    ({"nis": ["12"]}, "no es un NIS válido"),
    ({"nis": [4992383]}, "Cada NIS debe ser un texto"),
])
def test_patch_bad_values_are_422(arc: ApiArchive, scan: dict[str, Any], body: dict[str, Any],
                                  needle: str) -> None:
    res = arc.client().patch(scan["accepted"]["url"], headers=arc.headers("archivista"), json=body)
    assert res.status_code == 422
    assert needle in error_of(res)[1]


def test_patch_body_must_be_a_json_object(arc: ApiArchive, scan: dict[str, Any]) -> None:
    url, headers = scan["accepted"]["url"], arc.headers("archivista")
    client = arc.client()
    res = client.patch(url, headers=headers, data="tipo=contrato",
                       content_type="application/x-www-form-urlencoded")
    assert res.status_code == 415
    res = client.patch(url, headers=headers, data="{no es json", content_type="application/json")
    assert res.status_code == 400 and "JSON" in error_of(res)[1]
    res = client.patch(url, headers=headers, json=["contrato"])
    assert res.status_code == 422


def test_patch_of_a_document_in_the_pipeline_is_409(arc: ApiArchive) -> None:
    doc_id = _bare_document(arc, 900003, status=DocumentStatus.PROCESANDO)
    res = arc.client().patch(f"{API}/documents/{doc_id}", headers=arc.headers("archivista"),
                             json={"titulo": "Nuevo"})
    assert res.status_code == 409
    code, msg = error_of(res)
    assert code == "edicion_rechazada" and "se está procesando" in msg
    with session_scope(arc.services.sessions) as db:
        assert db.get(Document, doc_id).title == ""  # type: ignore[union-attr]


def test_patch_unknown_document_is_404(arc: ApiArchive) -> None:
    res = arc.client().patch(f"{API}/documents/987654", headers=arc.headers("archivista"),
                             json={"titulo": "x"})
    assert res.status_code == 404


@pytest.mark.parametrize("role", ["consulta", "despacho", "regional"])
def test_only_archivists_edit(arc: ApiArchive, scan: dict[str, Any], role: str) -> None:
    res = arc.client().patch(scan["accepted"]["url"], headers=arc.headers(role),
                             json={"titulo": "x"})
    assert res.status_code == 403


def test_browser_session_needs_the_csrf_header_for_patch(arc: ApiArchive,
                                                         scan: dict[str, Any]) -> None:
    client, csrf = arc.session_client("archivista")
    url = scan["accepted"]["url"]
    assert client.get(url).status_code == 200  # reads need no CSRF token
    res = client.patch(url, json={"titulo": "Desde el navegador"})
    assert res.status_code == 400 and "CSRF" in error_of(res)[1]
    res = client.patch(url, json={"titulo": "Desde el navegador"},
                       headers={"X-CSRFToken": "otro-token"})
    assert res.status_code == 400
    res = client.patch(url, json={"titulo": "Desde el navegador"}, headers={"X-CSRFToken": csrf})
    assert res.status_code == 200 and res.get_json()["titulo"] == "Desde el navegador"
    consulta, csrf2 = arc.session_client("consulta")
    res = consulta.patch(url, json={"titulo": "x"}, headers={"X-CSRFToken": csrf2})
    assert res.status_code == 403


def test_browser_session_can_upload_with_csrf(arc: ApiArchive, tmp_path: Path) -> None:
    client, csrf = arc.session_client("archivista")
    pdf = scans.born_digital_pdf(tmp_path / "nota.pdf", ["Nota de escribania", "NIS 1234567"])
    data = {"archivo": (io.BytesIO(pdf.read_bytes()), "nota.pdf")}
    res = client.post(f"{API}/documents", data=data, content_type="multipart/form-data")
    assert res.status_code == 400
    data = {"archivo": (io.BytesIO(pdf.read_bytes()), "nota.pdf")}
    res = client.post(f"{API}/documents", data=data, content_type="multipart/form-data",
                      headers={"X-CSRFToken": csrf})
    assert res.status_code == 202


# ----------------------------------------------------------------------------- outages

def test_database_down_is_503(arc: ApiArchive, scan: dict[str, Any],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import web.api.documents as documents

    def down(*a: object, **k: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(documents, "load_document", down)
    res = _get(arc, scan["accepted"]["url"])
    assert res.status_code == 503 and res.headers["Retry-After"] == "60"
    code, msg = error_of(res)
    assert code == "base_de_datos_no_disponible" and "base de datos" in msg


def test_database_down_while_checking_the_token_is_503(arc: ApiArchive,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import web.security as security

    def down(*a: object, **k: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(security, "user_for_token", down)
    res = _get(arc, f"{API}/regional-units")
    assert res.status_code == 503 and error_of(res)[0] == "base_de_datos_no_disponible"


def test_storage_down_is_503(arc: ApiArchive, scan: dict[str, Any],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    def down(key: str) -> None:
        raise StorageError("No se pudo leer la carpeta (ARCHIVO_STORAGE_URL): sin permiso.")

    monkeypatch.setattr(arc.services.store, "stat", down)
    res = _get(arc, f"{scan['accepted']['url']}/original")
    assert res.status_code == 503
    code, msg = error_of(res)
    assert code == "almacenamiento_no_disponible" and "almacenamiento" in msg


def test_upload_audit_names_the_token_user(arc: ApiArchive, scan: dict[str, Any]) -> None:
    with session_scope(arc.services.sessions) as db:
        actors = set(db.scalars(select(AuditEvent.actor).where(
            AuditEvent.object_id == scan["accepted"]["numero"],
            AuditEvent.action == "documento.recibir")))
    assert actors == {"u_archivista"}


def test_a_file_ingest_refuses_by_type_is_415(arc: ApiArchive,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Today accept_stream stores every kind (bad ones end in «error»); if it ever refuses a
    kind at the door, the API says 415 with its message."""
    import web.api.documents as documents
    from ingest.errors import RejectedInput

    def refuse(*a: object, **k: object) -> None:
        raise RejectedInput("tipo", "El archivo no es un PDF, TIFF, JPEG ni PNG.")

    monkeypatch.setattr(documents, "accept_stream", refuse)
    res = arc.upload("archivista", b"MZ\x90\x00", "programa.exe")
    assert res.status_code == 415
    assert error_of(res) == ("tipo_no_soportado", "El archivo no es un PDF, TIFF, JPEG ni PNG.")


def test_doubtful_nis_are_saved_and_named_in_avisos(arc: ApiArchive) -> None:
    """The API has no confirmation step: what a form would ask about comes back as «avisos»."""
    doc_id = _bare_document(arc, 880001, status=DocumentStatus.LISTO)
    url = f"{API}/documents/{doc_id}"
    res = arc.client().patch(url, headers=arc.headers("archivista"),
                             json={"nis": ["4992383", "12345678"]})
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["nis"] == ["12345678", "4992383"]
    assert [a["nis"] for a in body["avisos"]] == ["12345678"]  # no registry: 8 digits is odd
    assert "8 dígitos" in body["avisos"][0]["mensaje"]
    again = arc.client().patch(url, headers=arc.headers("archivista"), json={"titulo": "x"})
    assert again.get_json()["avisos"] == []  # nothing newly linked, nothing to say
    img, _ = scans.page(seed=81)
    up = arc.upload("archivista", scans.png_bytes(img), "otro.png", nis="123456")
    assert up.status_code == 202
    assert [a["nis"] for a in up.get_json()["avisos"]] == ["123456"]
