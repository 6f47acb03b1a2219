"""OCR and derivatives against the real Tesseract, on small generated pages."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest import ocr
from ingest.derivatives import (
    PdfPage,
    build_searchable_pdf,
    read_words_blob,
    scale_words,
    thumbnail,
    web_image,
    words_blob,
)
from ingest.errors import RejectedInput
from ingest.ocr import (
    OcrResult,
    TesseractMissing,
    analyse_page,
    available_languages,
    deskew,
    detect_orientation,
    ocr_page,
    parse_tsv,
    tesseract_version,
)
from archive.words import Word

DPI = 200
LINES = [
    "CONTRATO DE SUMINISTRO DE ENERGÍA ELÉCTRICA",
    "NIS 4992383",
    "Titular: José Núñez Giménez",
    "Se conviene el suministro de energía en baja tensión",
    "Capiatá, 3 de octubre de 2016",
]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    try:
        listed = subprocess.run(["fc-list", ":lang=es", "file"], capture_output=True, text=True,
                                timeout=10).stdout
        candidates += [Path(line.split(":")[0]) for line in listed.splitlines()
                       if line.split(":")[0].endswith(".ttf")]
    except (OSError, subprocess.SubprocessError):
        pass
    for path in candidates:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _render() -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    """A 1000x700 px page at 200 dpi and the drawn box of each line."""
    img = Image.new("L", (1000, 700), 255)
    draw, font = ImageDraw.Draw(img), _font(26)
    boxes, y = {}, 80
    for line in LINES:
        boxes[line] = draw.textbbox((60, y), line, font=font)
        draw.text((60, y), line, font=font, fill=20)
        y += 60
    return img, boxes


@pytest.fixture(scope="module")
def page() -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    return _render()


@pytest.fixture(scope="module")
def upright(page: tuple[Image.Image, dict]) -> OcrResult:
    return ocr_page(page[0], dpi=DPI)


def _word(result: OcrResult, text: str) -> Word:
    return next(w for w in result.words if w.text == text)


def test_ocr_reads_spanish_with_boxes_where_the_text_is(page, upright: OcrResult) -> None:
    img, boxes = page
    assert upright.rotation == 0 and upright.skew == 0.0
    for expected in ("4992383", "ENERGÍA", "ELÉCTRICA", "Capiatá,", "Núñez", "energía"):
        assert expected in upright.text.split(), upright.text
    assert upright.mean_conf > 80
    assert upright.image.size == img.size
    for w in upright.words:
        assert 0 <= w.left and w.left + w.width <= img.width
        assert 0 <= w.top and w.top + w.height <= img.height
        assert 0 <= w.conf <= 100
    nis = _word(upright, "4992383")
    x0, y0, x1, y1 = boxes["NIS 4992383"]
    assert x0 - 5 <= nis.left and nis.left + nis.width <= x1 + 5
    assert y0 - 8 <= nis.top and nis.top + nis.height <= y1 + 8
    # one text line per drawn line, in order; words of a line share its number
    assert upright.text.replace("\n\n", "\n").splitlines()[1] == "NIS 4992383"
    assert _word(upright, "NIS").line == nis.line == _word(upright, "CONTRATO").line + 1


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turned_pages_come_out_upright(page, turn: int) -> None:
    img, _ = page
    turned = img.rotate(turn, expand=True)  # counter-clockwise: undone by turning clockwise
    assert detect_orientation(turned, dpi=DPI)[0] == turn
    result = ocr_page(turned, dpi=DPI)
    assert result.rotation == turn
    assert result.image.size == img.size
    assert "4992383" in result.text and "Capiatá," in result.text


@pytest.mark.parametrize("turn", [0, 90])
def test_wrong_guess_is_caught_by_the_ocr_check(page, turn: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Upside down reads as garbage (low confidence); sideways Tesseract reads anyway
    but boxes the words tall: both send the page to OSD and a second pass."""
    img, _ = page
    real = ocr.analyse_page
    monkeypatch.setattr(ocr, "analyse_page",
                        lambda im, dpi=None: dataclasses.replace(real(im, dpi), rotation=180))
    result = ocr_page(img.rotate(turn, expand=True), dpi=DPI)
    assert result.rotation == turn
    assert "4992383" in result.text and result.mean_conf > 80


@pytest.mark.parametrize("turn", [0, 180])
def test_two_line_page_when_osd_gives_up(turn: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unsure guess is checked even when the garbage it reads scores well (71 here);
    with too few characters for OSD, the flipped page gets the second pass."""
    img = Image.new("L", (1240, 650), 255)
    draw, font = ImageDraw.Draw(img), _font(30)
    draw.text((120, 120), "Hoja 5", font=font, fill=0)
    draw.text((120, 180), "NIS 2345674", font=font, fill=0)
    real = ocr.analyse_page
    monkeypatch.setattr(ocr, "analyse_page", lambda im, dpi=None: dataclasses.replace(
        real(im, dpi), rotation=(real(im, dpi).rotation + 180) % 360, confidence=0.1))
    monkeypatch.setattr(ocr, "_osd", lambda *a, **k: None)
    result = ocr_page(img.rotate(turn), dpi=150)
    assert result.rotation == turn
    assert result.text == "Hoja 5\nNIS 2345674"


@pytest.mark.parametrize("tilt", [2.5, -3.0])
def test_skewed_page_is_straightened(page, tilt: float) -> None:
    img, _ = page
    tilted = img.rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=255)
    straight, applied = deskew(tilted, dpi=DPI)
    assert abs(applied + tilt) < 0.7
    assert straight.size == tilted.size
    result = ocr_page(tilted, dpi=DPI)
    assert abs(result.skew + tilt) < 0.7
    assert "4992383" in result.text and "ELÉCTRICA" in result.text


def test_tiny_skew_is_left_alone(page) -> None:
    img, _ = page
    tilted = img.rotate(0.1, resample=Image.Resampling.BICUBIC, fillcolor=255)
    straight, applied = deskew(tilted, dpi=DPI)
    assert applied == 0.0 and straight is tilted


@pytest.mark.parametrize("form", ["L", "1", "tiff-g4"])
def test_bilevel_page(page, form: str, tmp_path: Path) -> None:
    img, _ = page
    bilevel = img.point(lambda v: 255 if v > 128 else 0).convert("1")
    if form == "tiff-g4":  # Pillow carries the source's compression in .info
        bilevel.save(tmp_path / "p.tif", compression="group4", dpi=(DPI, DPI))
        bilevel = Image.open(tmp_path / "p.tif")
    result = ocr_page(bilevel.convert("L") if form == "L" else bilevel, dpi=DPI)
    assert result.rotation == 0
    assert "4992383" in result.text and "SUMINISTRO" in result.text


def test_blank_page_has_no_words() -> None:
    assert analyse_page(Image.new("L", (800, 600), 250), DPI).ink_level is None
    result = ocr_page(Image.new("L", (800, 600), 250), dpi=DPI)
    assert result.words == [] and result.text == "" and result.mean_conf == 0.0


def test_timeout_rejects_the_page(page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "tesseract"
    slow.write_text("#!/bin/sh\nexec sleep 10\n")
    slow.chmod(0o755)
    monkeypatch.setattr(ocr, "TESSERACT_CMD", str(slow))
    with pytest.raises(RejectedInput) as err:
        ocr_page(page[0], dpi=DPI, timeout_s=1)
    assert err.value.code == "tiempo"
    assert "superó 1 s" in str(err.value)


def test_missing_tesseract_is_explained(page, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "TESSERACT_CMD", "/nonexistent/tesseract")
    with pytest.raises(TesseractMissing, match="Tesseract no está instalado"):
        ocr_page(page[0], dpi=DPI)
    tesseract_version.cache_clear()
    try:
        with pytest.raises(TesseractMissing):
            tesseract_version()
    finally:
        tesseract_version.cache_clear()


def test_version_and_languages() -> None:
    assert tesseract_version().split(".")[0].isdigit()
    assert {"spa", "eng"} <= available_languages()


def test_text_keeps_lines_and_paragraphs() -> None:
    header = "\t".join(["level", "page_num", "block_num", "par_num", "line_num", "word_num",
                         "left", "top", "width", "height", "conf", "text"])
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t500\t500\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t91.234\tHola",
        "5\t1\t1\t1\t1\t2\t70\t10\t50\t20\t90\tmundo",
        "5\t1\t1\t1\t2\t1\t10\t40\t50\t20\t88\tsegunda",
        "5\t1\t1\t2\t1\t1\t10\t90\t50\t20\t87\tpárrafo",
        "5\t1\t2\t1\t1\t1\t10\t150\t50\t20\t86\t ",
        "5\t1\t3\t1\t1\t1\t10\t200\t50\t20\t85\tbloque",
    ]
    text, words = parse_tsv("\n".join([header, *rows]))
    assert text == "Hola mundo\nsegunda\n\npárrafo\n\nbloque"
    assert [w.line for w in words] == [0, 0, 1, 2, 3]
    assert words[0] == Word("Hola", 10, 10, 50, 20, 91.2, 0)


# --- derivatives -------------------------------------------------------------------------


def test_web_image_downsizes_to_150_dpi_and_never_upscales() -> None:
    a4 = Image.new("L", (2480, 3508), 255)
    web = web_image(a4, 300)
    assert (web.width, web.height, web.dpi, web.scale) == (1240, 1754, 150, 0.5)
    decoded = Image.open(io.BytesIO(web.data))
    assert decoded.format == "JPEG" and decoded.mode == "L" and decoded.size == (1240, 1754)
    web200 = web_image(Image.new("RGB", (1654, 2339), "white"), 200)
    assert (web200.width, web200.dpi) == (1240, 150)
    small = web_image(Image.new("L", (600, 800), 255), 100)
    assert (small.width, small.height, small.dpi, small.scale) == (600, 800, 100, 1.0)


def test_thumbnail_is_about_200_px_wide() -> None:
    thumb = Image.open(io.BytesIO(thumbnail(Image.new("L", (2480, 3508), 255))))
    assert thumb.format == "JPEG" and thumb.width == 200 and abs(thumb.height - 283) <= 1
    bilevel = Image.open(io.BytesIO(thumbnail(Image.new("1", (1000, 700), 1))))
    assert bilevel.width == 200


def test_words_blob_round_trips() -> None:
    words = [Word("Capiatá,", 1, 2, 30, 12, 96.5, 0), Word("NIS", 40, 2, 20, 12, -1.0, 1)]
    blob = words_blob(words)
    assert read_words_blob(blob) == words
    assert words_blob(words) == blob  # deterministic, so checksums are stable
    with pytest.raises(ValueError):
        read_words_blob(b"not gzip")


def test_searchable_pdf_has_the_words_where_the_image_shows_them(upright: OcrResult) -> None:
    web = web_image(upright.image, DPI)
    words = scale_words(upright.words, web.scale)
    yielded: list[int] = []

    def pages():
        for n in range(2):
            yielded.append(n)
            yield PdfPage(web.data, web.width, web.height, web.dpi, words)

    out = io.BytesIO()
    build_searchable_pdf(pages(), out)
    assert yielded == [0, 1]
    pdf = pdfium.PdfDocument(out.getvalue())
    assert len(pdf) == 2
    for i in range(2):
        width, height = pdf[i].get_size()
        assert abs(width - web.width * 72 / web.dpi) < 0.5
        assert abs(height - web.height * 72 / web.dpi) < 0.5
        text = pdf[i].get_textpage().get_text_range()
        for expected in ("4992383", "ENERGÍA", "Capiatá,", "Núñez"):
            assert expected in text, text
    # the invisible "4992383" sits on the word's box in the image
    textpage = pdf[0].get_textpage()
    searcher = textpage.search("4992383")
    start, count = searcher.get_next()
    boxes = [textpage.get_charbox(start + k) for k in range(count)]
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    nis = next(w for w in words if w.text == "4992383")
    k = 72 / web.dpi
    assert abs(left - nis.left * k) < 2 and abs(right - (nis.left + nis.width) * k) < 3
    page_h = web.height * k
    top_y, bottom_y = page_h - nis.top * k, page_h - (nis.top + nis.height) * k
    middle = (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2
    assert bottom_y - 2 < middle < top_y + 2


def test_a4_at_150_dpi_is_an_a4_pdf_page() -> None:
    web = web_image(Image.new("L", (2480, 3508), 255), 300)
    out = io.BytesIO()
    build_searchable_pdf(iter([PdfPage(web.data, web.width, web.height, web.dpi, [])]), out)
    width, height = pdfium.PdfDocument(out.getvalue())[0].get_size()
    assert abs(width - 595.2) < 1 and abs(height - 841.9) < 1
