"""The searchable PDF says what it is: title, author, subject and language, not «untitled»."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium

from archive.db import session_scope
from archive.models import Document
from archive.services import Services
from ingest.accept import accept_stream
from ingest.process import process_document
from tests import scans


def _catalog_language(pdf: bytes) -> str | None:
    """/Lang of the document catalog (reportlab writes the catalog uncompressed)."""
    for body in re.findall(rb"\d+ 0 obj\s*<<(.*?)>>\s*endobj", pdf, re.S):
        if b"/Type /Catalog" in body:
            found = re.search(rb"/Lang \((\w+)\)", body)
            return found.group(1).decode() if found else None
    return None


def test_searchable_pdf_has_title_author_subject_and_language(services: Services) -> None:
    img, _ = scans.page(seed=7)
    acc = accept_stream(services, io.BytesIO(scans.png_bytes(img)), "contrato.png",
                        actor="prueba", enqueue=False)
    assert process_document(services, acc.document_id) in ("listo", "revisar")
    with session_scope(services.sessions) as db:
        doc = db.get(Document, acc.document_id)
        assert doc is not None and doc.pdf is not None
        pdf = services.store.get_bytes(doc.pdf.storage_key)
    reader = pdfium.PdfDocument(pdf)
    try:
        info = reader.get_metadata_dict()
        assert len(reader) == 1
    finally:
        reader.close()
    assert info["Title"] == f"Documento {acc.archive_number}"
    assert info["Author"] == "archivo" and info["Creator"].startswith("archivo")
    assert info["Subject"].startswith("Documento escaneado") and "texto buscable" in info["Subject"]
    assert "untitled" not in info.values() and "anonymous" not in info.values()
    assert _catalog_language(pdf) == "es"
