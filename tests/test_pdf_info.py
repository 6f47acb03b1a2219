"""Generated PDFs carry a title, author, subject and language, not reportlab's defaults."""

from __future__ import annotations

import io

import pypdfium2 as pdfium

from ingest.separators import write_separators


def _info(data: bytes) -> dict[str, str]:
    pdf = pdfium.PdfDocument(data)
    try:
        return {k: v for k, v in pdf.get_metadata_dict().items() if v}
    finally:
        pdf.close()


def test_separator_sheets_describe_themselves() -> None:
    buf = io.BytesIO()
    write_separators(buf, [("1234567", None), ("7654321", "contrato")])
    data = buf.getvalue()
    info = _info(data)
    assert info["Title"] == "Hojas separadoras de archivo"
    assert info["Author"] == "archivo"
    assert "2 carpeta(s)" in info["Subject"]
    assert b"/Lang (es)" in data
    assert "untitled" not in info.values() and "anonymous" not in info.values()
