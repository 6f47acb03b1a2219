"""Separator sheets: the printed PDF decodes back; ordinary pages are left alone."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from archive.enums import DocumentType
from archive.errors import ArchivoError
from ingest.separators import (PREFIX, Separator, detect_separator, make_payload, parse_payload,
                               write_separators)
from tests import scans


def render(pdf_bytes: bytes, dpi: int = 100) -> list[Image.Image]:
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(pdf))]
    finally:
        pdf.close()


def pdf_text(pdf_bytes: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def qr_image(text: str, scale: int) -> Image.Image:
    """A QR code with ``scale`` pixels per module."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    return Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(code, scale=scale)))


def test_payload_round_trip() -> None:
    payload = make_payload("4.992.383", "contrato")
    assert payload == "ARCHIVO-SEPARADOR:1;NIS=4992383;TIPO=contrato"
    assert parse_payload(payload) == Separator("4992383", DocumentType.CONTRATO, payload)
    assert parse_payload(make_payload("1234567")) == Separator("1234567", None,
                                                               "ARCHIVO-SEPARADOR:1;NIS=1234567")
    assert make_payload("1234567", "Croquis de ubicación").endswith("TIPO=croquis")


@pytest.mark.parametrize("text, problem", [
    ("ARCHIVO-SEPARADOR:9;NIS=1234567", "versión"),
    ("ARCHIVO-SEPARADOR:1;NIS=12", "NIS inválido"),
    ("ARCHIVO-SEPARADOR:1;TIPO=contrato", "NIS inválido"),
    ("ARCHIVO-SEPARADOR:1;NIS=1234567;TIPO=factura", "tipo de documento desconocido"),
])
def test_our_prefix_with_bad_content_is_a_separator_with_a_problem(text: str, problem: str) -> None:
    sep = parse_payload(text)
    assert sep is not None and not sep.valid
    assert sep.problem and problem in sep.problem


@pytest.mark.parametrize("text", ["https://ekuatia.set.gov.py/consultas/qr?nVersion=150",
                                  "NIS=1234567", ""])
def test_other_codes_are_not_separators(text: str) -> None:
    assert parse_payload(text) is None


def test_invalid_input_for_printing_is_refused_in_spanish() -> None:
    with pytest.raises(ArchivoError, match="no es un NIS válido"):
        write_separators(io.BytesIO(), [("12", None)])
    with pytest.raises(ValueError, match="no es un valor válido"):
        write_separators(io.BytesIO(), [("1234567", "factura")])
    with pytest.raises(ArchivoError, match="al menos un NIS"):
        write_separators(io.BytesIO(), [])


def test_separator_pdf_decodes_back_at_scanner_resolutions() -> None:
    sheets = [("4.992.383", "contrato"), ("1234567", None), ("7654321", DocumentType.CROQUIS)]
    buf = io.BytesIO()
    assert write_separators(buf, sheets) == 3
    data = buf.getvalue()
    expected = [("4992383", DocumentType.CONTRATO), ("1234567", None),
                ("7654321", DocumentType.CROQUIS)]
    for dpi in (50, 100, 300):
        found = [detect_separator(img) for img in render(data, dpi)]
        assert [(s.nis, s.doc_type) for s in found if s] == expected, dpi
        assert all(s is not None and s.valid and s.payload.startswith(PREFIX) for s in found)
    texts = pdf_text(data)  # the same data in large text, for people
    assert "NIS 4992383" in texts[0] and "Contrato de suministro" in texts[0]
    assert "NIS 1234567" in texts[1] and "escanee todo el lote" in texts[1]
    buf2 = io.BytesIO()
    write_separators(buf2, sheets)
    assert buf2.getvalue() == data  # same sheets, same bytes


def test_scanned_separator_turned_and_noisy_is_found() -> None:
    buf = io.BytesIO()
    write_separators(buf, [("2345678", "acuerdo_pago")])
    page = render(buf.getvalue(), 150)[0]
    for turned in (page.rotate(180), page.rotate(90, expand=True),
                   page.rotate(2, fillcolor=255, resample=Image.Resampling.BILINEAR)):
        sep = detect_separator(turned)
        assert sep is not None and sep.nis == "2345678"
        assert sep.doc_type is DocumentType.ACUERDO_PAGO


def test_colour_scan_is_found() -> None:
    buf = io.BytesIO()
    write_separators(buf, [("2345678", None)])
    page = render(buf.getvalue(), 100)[0].convert("RGB")
    assert detect_separator(page) == Separator("2345678", None, "ARCHIVO-SEPARADOR:1;NIS=2345678")


def test_ordinary_pages_are_not_separators() -> None:
    img, _ = scans.page(seed=3)
    assert detect_separator(img) is None
    assert detect_separator(Image.new("L", (1654, 2339), 255)) is None  # blank A4 at 200 dpi
    assert detect_separator(Image.new("1", (10, 10), 0)) is None  # tiny and odd mode


def test_a_foreign_qr_code_on_a_page_is_ignored() -> None:
    img, _ = scans.page(seed=4)
    img = img.copy()
    code = qr_image("https://ekuatia.set.gov.py/consultas/qr?nVersion=150&Id=01800", 5)
    img.paste(code, (img.width - code.width - 20, 20))
    assert zxingcpp.read_barcodes(img)  # the code is there and readable
    assert detect_separator(img) is None


def test_small_code_on_a_big_page_needs_the_full_page() -> None:
    """A code too small for the cheap first look is still read from the full page."""
    page = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    page.paste(qr_image(make_payload("3456789"), 3), (200, 200))  # 0.25 mm modules
    sep = detect_separator(page)
    assert sep is not None and sep.nis == "3456789"


def test_cli_prints_separators(tmp_path: Path) -> None:
    from archivo_cli.main import cli

    out = tmp_path / "hojas" / "separadores.pdf"
    result = CliRunner().invoke(cli, ["separadores", "4.992.383:contrato", "1234567",
                                      "--tipo", "croquis", "--salida", str(out)],
                                env={"ARCHIVO_HOME": str(tmp_path / "sin-archivo")})
    assert result.exit_code == 0, result.output
    assert "Se generaron 2 hojas separadoras" in result.output
    assert "Contrato de suministro" in result.output and "Croquis de ubicación" in result.output
    found = [detect_separator(img) for img in render(out.read_bytes(), 72)]
    assert [(s.nis, s.doc_type) for s in found if s] == [
        ("4992383", DocumentType.CONTRATO), ("1234567", DocumentType.CROQUIS)]
    bad = CliRunner().invoke(cli, ["separadores", "12", "--salida", str(out)])
    assert bad.exit_code == 1 and "no es un NIS válido" in bad.output
