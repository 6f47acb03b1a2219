"""Label sheets: the PDF's text is extracted back and every printed code is decoded back.

Pages are rendered with pypdfium2 at 300 dpi and read with zxing-cpp, the
way a scanner or phone would see them.
"""

from __future__ import annotations

import datetime as dt

import pypdfium2 as pdfium
import pytest
import zxingcpp

from archive import physical as ph
from archive.db import read_scope, session_scope
from archive.errors import ArchivoError
from archive.services import Services
from tests.registry_helpers import add_document

DPI = 300


def pages_of(pdf: bytes) -> list[tuple[str, list[tuple[str, str]]]]:
    """(text, [(format, decoded text)]) per page."""
    doc = pdfium.PdfDocument(pdf)
    out = []
    try:
        for page in doc:
            text = page.get_textpage().get_text_range()
            image = page.render(scale=DPI / 72, grayscale=True).to_pil()
            found = [(b.format.name, b.text) for b in zxingcpp.read_barcodes(image)]
            out.append((text, found))
    finally:
        doc.close()
    return out


def sheet_items(n: int) -> list[ph.LabelItem]:
    return [ph.LabelItem(f"CARP-{i:06d}", "Carpeta", [f"NIS {4992300 + i}", f"Contrato {i}"])
            for i in range(1, n + 1)]


def test_a_full_sheet_of_24_labels_decodes_back() -> None:
    items = sheet_items(26)
    pages = pages_of(ph.render_labels(items, ph.SHEET))
    assert len(pages) == 2  # 24 + 2
    text, codes = pages[0]
    assert sorted(t for f, t in codes) == [f"CARP-{i:06d}" for i in range(1, 25)]
    assert {f for f, _ in codes} == {"Code128"}
    for i in range(1, 25):
        assert f"CARP-{i:06d}" in text and f"NIS {4992300 + i}" in text
    assert sorted(t for _, t in pages[1][1]) == ["CARP-000025", "CARP-000026"]


def test_start_skips_used_labels_of_a_sheet() -> None:
    pages = pages_of(ph.render_labels(sheet_items(3), ph.SHEET, start=22))
    assert [sorted(t for _, t in codes) for _, codes in pages] == [
        ["CARP-000001", "CARP-000002"], ["CARP-000003"]]


def test_big_box_label_has_code128_and_qr() -> None:
    item = ph.LabelItem("CAJA-000042", "Caja", ["Caja Contratos 2016 (CAJA-000042)",
                                                "NIS 4992300 a 4992399", "Ñandutí"])
    [(text, codes)] = pages_of(ph.render_labels([item], ph.BIG))
    assert sorted(codes) == [("Code128", "CAJA-000042"), ("QRCode", "CAJA-000042")]
    assert "CAJA-000042" in text and "NIS 4992300 a 4992399" in text and "Ñandutí" in text


def test_a_code_too_long_for_code128_gets_a_qr() -> None:
    code = "ARCHIVO-CENTRAL/SALA-1/ESTANTE-4/CAJA-0042-CONTRATOS-2016"
    [(text, codes)] = pages_of(ph.render_labels([ph.LabelItem(code, "Caja", ["x"])], ph.SHEET))
    assert codes == [("QRCode", code)]


def test_bad_requests_are_refused_in_spanish() -> None:
    with pytest.raises(ArchivoError, match="al menos un código"):
        ph.render_labels([], ph.SHEET)
    with pytest.raises(ArchivoError, match="Formato de etiquetas desconocido"):
        ph.render_labels(sheet_items(1), "carta")
    with pytest.raises(ArchivoError, match="entre 1 y 24"):
        ph.render_labels(sheet_items(1), ph.SHEET, start=24)


def test_label_items_from_the_archive(services: Services) -> None:
    add_document(services, 7, ["4992383"])
    with session_scope(services.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana")
        sala = ph.add_location(db, parent=dep.code, actor="ana")
        est = ph.add_location(db, parent=sala.code, actor="ana")
        box = ph.add_location(db, parent=est.code, name="Contratos 2016", actor="ana")
        ph.create_folder(db, nis="4992383", description="Contrato de Ñandutí S.A.",
                         location=box.code, actor="ana",
                         now=dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc))
        ph.create_folder(db, nis="4992390", location=box.code, actor="ana")
        ph.place_document(db, "ARC-2026-000007", folder="CARP-000001", actor="ana",
                          away=ph.NO_HOLDS)
    with read_scope(services.sessions) as db:
        items = ph.label_items(db, ["carp-000001", box.code, "ARC-2026-7"])
        with pytest.raises(ph.NotFound, match="CAJA-999"):
            ph.label_items(db, ["CAJA-999"])
    assert [(i.code, i.kind) for i in items] == [
        ("CARP-000001", "Carpeta"), ("CAJA-000001", "Caja"), ("ARC-2026-000007", "Documento")]
    assert items[0].lines == ["NIS 4992383", "Contrato de Ñandutí S.A.", "ARC-2026-000007"]
    assert "NIS 4992383 a 4992390" in items[1].lines and "2 carpeta(s)" in items[1].lines
    assert items[2].lines == ["Otro", "NIS 4992383"]
    [(text, codes)] = pages_of(ph.render_labels(items, ph.SHEET))
    assert sorted(t for _, t in codes) == ["ARC-2026-000007", "CAJA-000001", "CARP-000001"]
    assert "Contrato de Ñandutí S.A." in text
