"""The ingest pipeline end to end, with real Tesseract, on generated scans."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import AuditEvent, Blob, Document, DocumentSupply, Page, Supply
from archive.services import Services
from ingest.accept import accept_stream
from ingest.derivatives import read_words_blob
from ingest.errors import RejectedInput
from ingest.process import process_document
from tests import scans
from tests.test_pages import encrypted_pdf


def ingest_file(svc: Services, path: Path, **kw) -> Document:  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        acc = accept_stream(svc, fh, path.name, actor="prueba", enqueue=False, **kw)
    process_document(svc, acc.document_id)
    return load(svc, acc.document_id)


def load(svc: Services, doc_id: int) -> Document:
    with session_scope(svc.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        _ = doc.pages, doc.supplies, doc.identifiers, doc.original, doc.pdf
        return doc


def test_png_contract_is_listo_with_nis_text_and_derivatives(services: Services, tmp_path: Path) -> None:
    img, nis = scans.page(seed=3, doc_type="contrato")
    doc = ingest_file(services, scans.write(img, tmp_path / "contrato.png", "PNG"))
    assert doc.status is DocumentStatus.LISTO, doc.review_reasons
    assert doc.doc_type is DocumentType.CONTRATO
    assert doc.nis_list == nis
    assert [l.source for l in doc.supplies] == [LinkSource.OCR]
    assert doc.page_count == 1 and doc.document_date is not None
    page = doc.pages[0]
    assert "SUMINISTRO" in page.text.upper() and page.ocr_confidence and page.ocr_confidence > 60
    for key in (page.image_key, page.thumb_key, page.words_key):
        assert services.store.exists(key)
    words = read_words_blob(services.store.get_bytes(page.words_key))
    hit = [w for w in words if nis[0] in w.text.replace(".", "")]
    assert hit and all(0 <= w.left < page.width and 0 <= w.top < page.height for w in hit)
    web = Image.open(io.BytesIO(services.store.get_bytes(page.image_key)))
    assert web.size == (page.width, page.height) and web.mode == "L"
    assert doc.pdf is not None and services.store.exists(doc.pdf.storage_key)
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(services.store.get_bytes(doc.pdf.storage_key))
    assert nis[0] in pdf[0].get_textpage().get_text_range().replace(".", "")


@pytest.mark.parametrize("fmt, mode, save", [
    ("JPEG", "L", {}),
    ("TIFF", "1", {"compression": "group4"}),
    ("TIFF", "I;16", {}),
    ("TIFF", "CMYK", {}),
    ("PDF", "L", {}),
])
def test_input_kinds(services: Services, tmp_path: Path, fmt: str, mode: str, save: dict) -> None:
    img, nis = scans.page(seed=5, doc_type="orden_trabajo")
    if mode == "1":
        img = img.point(lambda v: 255 if v > 128 else 0).convert("1")
    elif mode == "I;16":
        img = img.convert("I").point(lambda v: v * 257).convert("I;16")
    elif mode == "CMYK":
        img = img.convert("CMYK")
    path = scans.write(img, tmp_path / f"p.{fmt.lower()}", fmt, dpi=(150, 150), **save)
    doc = ingest_file(services, path)
    assert doc.status is DocumentStatus.LISTO, (doc.error_message, doc.review_reasons)
    assert doc.nis_list == nis


def test_multipage_tiff_keeps_page_order(services: Services, tmp_path: Path) -> None:
    pages = [scans.page(seed=10 + i, lines=[f"Hoja número {i + 1}", f"NIS {1234560 + i}"])[0]
             for i in range(3)]
    doc = ingest_file(services, scans.write(pages, tmp_path / "tres.tif", "TIFF",
                                            compression="tiff_deflate", dpi=(150, 150)))
    assert doc.page_count == 3
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for i, p in enumerate(doc.pages):
        assert f"{1234560 + i}" in p.text
    assert doc.nis_list == ["1234560", "1234561", "1234562"]


@pytest.mark.parametrize("rotate", [90, 180])
def test_turned_pages_are_read_upright(services: Services, tmp_path: Path, rotate: int) -> None:
    img, nis = scans.page(seed=7, doc_type="acuerdo_pago", rotate=rotate)
    doc = ingest_file(services, scans.write(img, tmp_path / "girada.png", "PNG"))
    page = doc.pages[0]
    assert page.rotation == (360 - rotate) % 360  # turned back by the opposite angle
    assert "ACUERDO" in page.text.upper()
    assert doc.nis_list == nis


def test_jpeg_exif_orientation(services: Services, tmp_path: Path) -> None:
    img, nis = scans.page(seed=8, doc_type="contrato")
    stored = img.rotate(90, expand=True)  # the camera stored it turned and says so in EXIF
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "foto.jpg"
    stored.save(path, format="JPEG", exif=exif, dpi=(150, 150))
    doc = ingest_file(services, path)
    assert doc.nis_list == nis
    assert doc.pages[0].width > doc.pages[0].height  # landscape half page, upright
    assert doc.pages[0].rotation == 0  # EXIF turned it; OCR found nothing left to turn


def test_born_digital_pdf_keeps_its_text_layer(services: Services, tmp_path: Path) -> None:
    lines = ["DENUNCIA DE ROBO DE MEDIDOR", "El titular del NIS 7654321 denuncia el hurto",
             "del medidor de energía eléctrica instalado en su domicilio."]
    doc = ingest_file(services, scans.born_digital_pdf(tmp_path / "nota.pdf", lines))
    page = doc.pages[0]
    assert page.text_source == "pdf" and page.ocr_confidence is None
    assert "hurto" in page.text and "energía" in page.text
    assert doc.nis_list == ["7654321"]
    assert doc.doc_type is DocumentType.DENUNCIA_ROBO_MEDIDOR


def test_mixed_pdf_reads_text_layer_and_ocrs_the_scan(services: Services, tmp_path: Path) -> None:
    scan, nis = scans.page(seed=15, doc_type="orden_trabajo")
    path = scans.mixed_pdf(tmp_path / "mixto.pdf",
                           ["NOTA DE ELEVACION", "Se adjunta la orden de trabajo escaneada."], scan)
    doc = ingest_file(services, path)
    assert [p.text_source for p in doc.pages] == ["pdf", "ocr"]
    assert "adjunta" in doc.pages[0].text
    assert "ORDEN DE TRABAJO" in doc.pages[1].text.upper()
    assert doc.nis_list == nis


def test_same_bytes_twice_is_one_document(services: Services, tmp_path: Path) -> None:
    img, _ = scans.page(seed=11)
    path = scans.write(img, tmp_path / "a.png", "PNG")
    with path.open("rb") as fh:
        first = accept_stream(services, fh, "a.png", actor="t", enqueue=False)
    with path.open("rb") as fh:
        again = accept_stream(services, fh, "copia-de-a.png", actor="t", enqueue=False)
    assert again.duplicate and again.document_id == first.document_id
    assert again.archive_number == first.archive_number
    with path.open("rb") as fh:  # sent again with a supply number: the link is added
        third = accept_stream(services, fh, "a.png", actor="t", enqueue=False, nis=["7.777.777"])
    assert third.duplicate and "7777777" in third.nis
    with session_scope(services.sessions) as s:
        assert s.scalar(select(func.count(Document.id))) == 1
        assert s.scalar(select(func.count(Blob.id))) == 1


def test_manual_type_and_nis_are_kept(services: Services, tmp_path: Path) -> None:
    img, nis = scans.page(seed=12, lines=["Nota sin número de suministro legible"])
    doc = ingest_file(services, scans.write(img, tmp_path / "n.png", "PNG"),
                      doc_type=DocumentType.NOTA_ESCRIBANIA, nis=["1.234.567"])
    assert doc.doc_type is DocumentType.NOTA_ESCRIBANIA
    assert [(l.nis, l.source) for l in doc.supplies] == [("1234567", LinkSource.MANUAL)]
    assert doc.status is DocumentStatus.LISTO


def test_no_nis_goes_to_review(services: Services, tmp_path: Path) -> None:
    img, _ = scans.page(seed=13, lines=["Nota de la escribanía", "sin número de suministro"])
    doc = ingest_file(services, scans.write(img, tmp_path / "x.png", "PNG"))
    assert doc.status is DocumentStatus.REVISAR and "sin_nis" in doc.review_reasons


def test_nis_missing_from_registry_goes_to_review(services: Services, tmp_path: Path) -> None:
    with session_scope(services.sessions) as s:
        s.add(Supply(nis="1111111", holder_name="Otro"))
    img, nis = scans.page(seed=14, doc_type="croquis")
    doc = ingest_file(services, scans.write(img, tmp_path / "c.png", "PNG"))
    assert doc.status is DocumentStatus.REVISAR and "nis_desconocido" in doc.review_reasons
    assert doc.nis_list == nis and doc.supplies[0].confidence < 0.8
    with session_scope(services.sessions) as s:
        s.add(Supply(nis=nis[0], holder_name="Titular"))
    doc2 = ingest_file(services, scans.write(scans.page(seed=14, doc_type="croquis", dpi=151)[0],
                                             tmp_path / "c2.png", "PNG"))
    assert doc2.status is DocumentStatus.LISTO


def test_zero_bytes_is_refused_at_the_door(services: Services) -> None:
    with pytest.raises(RejectedInput) as err:
        accept_stream(services, io.BytesIO(b""), "vacio.pdf", actor="t", enqueue=False)
    assert err.value.code == "vacio" and "vacío" in str(err.value)


def test_over_size_limit_is_refused(tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    svc = make_services(tmp_path / "var", ARCHIVO_MAX_ARCHIVO_MB="1")
    initialize(svc)
    with pytest.raises(RejectedInput) as err:
        accept_stream(svc, io.BytesIO(b"\0" * (2 * 1024 * 1024)), "grande.tif", actor="t")
    assert err.value.code == "tamano" and "1 MB" in str(err.value)
    assert list(svc.store.iterate("originals/")) == []


def _bad_files(tmp_path: Path) -> dict[str, bytes]:
    img, _ = scans.page(seed=20)
    png = scans.png_bytes(img)
    return {
        "truncado.png": png[: len(png) // 2],
        "pagina.pdf": b"<!DOCTYPE html><html><body>No encontrado</body></html>",
        "bomba.png": _png_header(100_000, 100_000),
        "muchas.pdf": _pdf_claiming_pages(213_804_087),
        "cifrado.pdf": encrypted_pdf(b"clave-del-usuario"),
    }


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\0\0\0\0IEND\xaeB`\x82")


def _pdf_claiming_pages(count: int) -> bytes:
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [3 0 R] /Count {count} >>".encode(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.mark.parametrize("name, code", [("truncado.png", "truncado"), ("pagina.pdf", "tipo"),
                                        ("bomba.png", "bomba"), ("muchas.pdf", "paginas"),
                                        ("cifrado.pdf", "cifrado")])
def test_bad_files_end_in_error_and_are_quarantined(services: Services, tmp_path: Path,
                                                    name: str, code: str) -> None:
    data = _bad_files(tmp_path)[name]
    acc = accept_stream(services, io.BytesIO(data), name, actor="t", enqueue=False)
    assert process_document(services, acc.document_id) == "error"
    doc = load(services, acc.document_id)
    assert doc.status is DocumentStatus.ERROR
    assert doc.error_code == code, doc.error_message
    assert doc.error_message and doc.error_message[0].isupper()
    assert doc.pages == []
    assert services.store.get_bytes(doc.original.storage_key) == data  # kept for inspection
    with session_scope(services.sessions) as s:
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == doc.archive_number)).all()
    assert actions == ["documento.recibir", "documento.rechazar"]


def test_reprocessing_replaces_pages_without_duplicates(services: Services, tmp_path: Path) -> None:
    img, _ = scans.page(seed=21)
    doc = ingest_file(services, scans.write(img, tmp_path / "r.png", "PNG"))
    with session_scope(services.sessions) as s:
        s.get(Document, doc.id).status = DocumentStatus.RECIBIDO
    process_document(services, doc.id)
    with session_scope(services.sessions) as s:
        assert s.scalar(select(func.count(Page.id)).where(Page.document_id == doc.id)) == 1
        assert s.scalar(select(func.count()).select_from(DocumentSupply)
                        .where(DocumentSupply.document_id == doc.id)) == 1


def test_unexpected_fault_ends_in_error_not_a_retry_loop(services: Services, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.process as proc

    def broken(*a, **k):  # type: ignore[no-untyped-def]
        raise ValueError("falla simulada")

    monkeypatch.setattr(proc, "ocr_page", broken)
    img, _ = scans.page(seed=22)
    path = scans.write(img, tmp_path / "f.png", "PNG")
    with path.open("rb") as fh:
        acc = accept_stream(services, fh, path.name, actor="t", enqueue=False)
    assert process_document(services, acc.document_id) == "error"
    doc = load(services, acc.document_id)
    assert doc.error_code == "interno" and "administrador" in (doc.error_message or "")
    assert services.store.exists(doc.original.storage_key)


def test_storage_outage_is_retried_then_given_up(services: Services, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.errors import StorageError
    import ingest.process as proc

    def down(*a, **k):  # type: ignore[no-untyped-def]
        raise StorageError("almacenamiento caído (simulado)")

    img, _ = scans.page(seed=23)
    path = scans.write(img, tmp_path / "g.png", "PNG")
    with path.open("rb") as fh:
        acc = accept_stream(services, fh, path.name, actor="t", enqueue=False)
    monkeypatch.setattr(proc, "_store_pdf", down)
    with pytest.raises(StorageError):
        process_document(services, acc.document_id)
    assert load(services, acc.document_id).status is DocumentStatus.RECIBIDO  # released for retry
    monkeypatch.setattr(proc, "MAX_ATTEMPTS", 2)
    assert process_document(services, acc.document_id) == "error"
    assert load(services, acc.document_id).error_code == "reintentos"


def test_a_downloaded_searchable_pdf_can_be_archived_again(services: Services, tmp_path: Path) -> None:
    """Same bytes under two keys: the new document gets its own original, the first keeps its PDF."""
    img, nis = scans.page(seed=24)
    first = ingest_file(services, scans.write(img, tmp_path / "h.png", "PNG"))
    pdf_bytes = services.store.get_bytes(first.pdf.storage_key)
    again = tmp_path / "descargado.pdf"
    again.write_bytes(pdf_bytes)
    second = ingest_file(services, again)
    assert second.id != first.id
    assert second.original.storage_key.startswith("originals/")
    assert second.original.id != first.pdf.id
    assert load(services, first.id).pdf.storage_key == first.pdf.storage_key
    assert second.nis_list == nis  # read back from the invisible text layer


@pytest.mark.postgres
def test_pipeline_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    """The same accept/claim/finish transactions on the scaled database."""
    import uuid

    from sqlalchemy import create_engine, text

    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    schema = f"ingest_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{pg_database}?options=-csearch_path%3D{schema}"
    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=url)
    try:
        initialize(svc)
        img, nis = scans.page(seed=25, doc_type="contrato")
        path = scans.write(img, tmp_path / "pg.png", "PNG")
        doc = ingest_file(svc, path)
        assert doc.status is DocumentStatus.LISTO and doc.nis_list == nis
        assert doc.archive_number.endswith("-000001")
        with path.open("rb") as fh:
            assert accept_stream(svc, fh, "otra.png", actor="t", enqueue=False).duplicate
        assert process_document(svc, doc.id) == "omitido"
    finally:
        svc.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
