"""Label PDFs say what they are: title, author, subject and language, not «untitled»."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest

from archive import physical as ph


def _info(pdf: bytes) -> dict[str, str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc.get_metadata_dict()
    finally:
        doc.close()


def _catalog_language(pdf: bytes) -> str | None:
    """/Lang of the document catalog (reportlab writes the catalog uncompressed)."""
    for body in re.findall(rb"\d+ 0 obj\s*<<(.*?)>>\s*endobj", pdf, re.S):
        if b"/Type /Catalog" in body:
            found = re.search(rb"/Lang \((\w+)\)", body)
            return found.group(1).decode() if found else None
    return None


@pytest.mark.parametrize("layout", [ph.SHEET, ph.BIG])
def test_label_pdf_has_title_author_subject_and_language(layout: str) -> None:
    items = [ph.LabelItem("CAJA-000042", "Caja", ["Contratos 2016"]),
             ph.LabelItem("CARP-000001", "Carpeta", ["NIS 4992383"])]
    pdf = ph.render_labels(items, layout)
    info = _info(pdf)
    assert info["Title"] == "Etiquetas de archivo"
    assert info["Author"] == "archivo" and info["Creator"].startswith("archivo")
    assert "CAJA-000042" in info["Subject"] and "CARP-000001" in info["Subject"]
    assert info["Subject"].startswith("Etiquetas con código de barras")
    assert _catalog_language(pdf) == "es"
