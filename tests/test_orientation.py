"""Orientation of small, low-resolution pages with a single line of text (issue 14).

The cheap analysis and Tesseract OSD are both unreliable on a line or two of
text: an upright 150 dpi one-liner used to come out turned and read as garbage.
These run the real Tesseract on small generated images, so they stay quick.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from archive.db import session_scope
from archive.models import Document
from archive.services import Services
from ingest.accept import accept_stream
from ingest.ocr import OcrResult, ocr_page
from ingest.process import process_document

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
ENGLISH = "This is a test document."
SPANISH = "Factura de energía eléctrica del mes"


def one_liner(text: str, dpi: int, points: float = 12.0) -> Image.Image:
    """``text`` in ``points`` type on a strip of paper with 0.4 in margins, scanned at ``dpi``."""
    font = ImageFont.truetype(str(FONT), round(points * dpi / 72))
    left, top, right, bottom = font.getbbox(text)
    margin = round(0.4 * dpi)
    image = Image.new("L", (right + 2 * margin, bottom + 2 * margin), 255)
    ImageDraw.Draw(image).text((margin, margin), text, font=font, fill=0)
    return image


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey difference (0..255) of two same-size pages."""
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def _assert_upright(result: OcrResult, upright: Image.Image, text: str, turn: int) -> None:
    assert result.rotation == turn, (result.rotation, result.text)
    for word in text.split():
        assert word in result.text.split(), result.text
    # The page image (and so the web image and the PDF) is the upright page, not a turned copy.
    assert result.image.size == upright.size
    turned_back = upright.transpose(Image.Transpose.ROTATE_180)
    assert _difference(result.image, upright) < 0.5 * _difference(turned_back, upright)


@pytest.mark.parametrize("dpi", [72, 150, 300])
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
@pytest.mark.parametrize("text", [ENGLISH, SPANISH], ids=["en", "es"])
def test_one_line_ends_upright_in_every_orientation(text: str, turn: int, dpi: int) -> None:
    upright = one_liner(text, dpi)
    scanned = upright.rotate(turn, expand=True)  # counter-clockwise: undone by turning clockwise
    _assert_upright(ocr_page(scanned, dpi=dpi), upright, text, turn)


def test_weak_guess_never_turns_an_upright_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a confident-looking analysis must not turn an upright one-liner unchecked."""
    import dataclasses

    from ingest import ocr

    real = ocr.analyse_page
    for wrong in (90, 180, 270):
        monkeypatch.setattr(ocr, "analyse_page", lambda im, dpi=None, w=wrong: dataclasses.replace(
            real(im, dpi), rotation=w, confidence=1.0))
        upright = one_liner("Orden de trabajo del suministro", 150)
        _assert_upright(ocr_page(upright, dpi=150), upright, "Orden de trabajo del suministro", 0)


def test_upright_one_liner_png_is_archived_upright(services: Services, tmp_path: Path) -> None:
    """End to end: page image, stored text and the searchable PDF's text layer are upright."""
    upright = one_liner(ENGLISH, 150)
    path = tmp_path / "simple.png"
    upright.save(path, dpi=(150, 150))
    with path.open("rb") as fh:
        doc_id = accept_stream(services, fh, path.name, actor="prueba", enqueue=False).document_id
    process_document(services, doc_id)
    with session_scope(services.sessions) as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.pdf is not None
        page = doc.pages[0]
        rotation, text, image_key = page.rotation, page.text, page.image_key
        pdf_key = doc.pdf.storage_key
    assert rotation == 0
    assert text == ENGLISH
    web = Image.open(io.BytesIO(services.store.get_bytes(image_key))).convert("L")
    assert web.size == upright.size
    assert _difference(web, upright) < 0.5 * _difference(
        upright.transpose(Image.Transpose.ROTATE_180), upright)
    pdf = pdfium.PdfDocument(services.store.get_bytes(pdf_key))
    assert "document." in pdf[0].get_textpage().get_text_range()
