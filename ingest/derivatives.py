"""Files derived from an OCR'd page: web image, thumbnail, word boxes and a searchable PDF.

Coordinates: ``OcrResult.words`` are in pixels of the full-resolution corrected
page.  The web image is that page scaled by ``WebImage.scale``; ``scale_words``
maps the boxes onto it.  ``PdfPage.words`` are always in pixels of the JPEG the
PDF page shows (the web image), so a PDF never needs the full-size page.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image
from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from archive.pdf_info import new_canvas
from archive.words import Word, read_words_blob, words_blob  # noqa: F401 - re-exported

WEB_DPI = 150
WEB_QUALITY = 70
THUMB_WIDTH = 200
_PDF_FONT = "Helvetica"  # one of the 14 standard fonts: nothing to embed, WinAnsi covers Spanish


@dataclass(frozen=True, slots=True)
class WebImage:
    """Grayscale JPEG of the page for the viewer; ``scale`` maps page pixels to its pixels."""

    data: bytes
    width: int
    height: int
    dpi: int
    scale: float  # web pixels per page pixel (<= 1.0)


@dataclass(frozen=True, slots=True)
class PdfPage:
    """One page of a searchable PDF: the JPEG shown and the words, boxed in that JPEG's pixels."""

    jpeg: bytes
    width: int  # pixels of the JPEG
    height: int
    dpi: int  # resolution of the JPEG; sets the physical page size
    words: Sequence[Word]


def _jpeg(image: Image.Image, *, quality: int, dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buf, "JPEG", quality=quality, **extra)
    return buf.getvalue()


def web_image(image: Image.Image, dpi: int, *, target_dpi: int = WEB_DPI,
              quality: int = WEB_QUALITY) -> WebImage:
    """The page as a ~150 dpi grayscale JPEG, never upscaled: readable on screen at a
    quarter of the pixels of a 300 dpi scan."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, not {dpi}")
    gray = image if image.mode == "L" else image.convert("L")
    if dpi <= target_dpi:
        small, scale = gray, 1.0
    elif dpi % target_dpi == 0:  # 300 -> 150: box reduction, fast and exact (x -> x / f)
        factor = dpi // target_dpi
        small, scale = gray.reduce(factor), 1.0 / factor
    else:
        scale = target_dpi / dpi
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        small = gray.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out_dpi = max(1, round(dpi * scale))
    data = _jpeg(small, quality=quality, dpi=out_dpi)
    return WebImage(data, small.width, small.height, out_dpi, scale)


def thumbnail(image: Image.Image, *, width: int = THUMB_WIDTH, quality: int = WEB_QUALITY) -> bytes:
    """A JPEG about ``width`` pixels wide for result lists."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    factor = image.width // (2 * width)  # cheap box reduction first, filter the rest
    if factor > 1:
        image = image.reduce(factor)
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return _jpeg(image, quality=quality)


def scale_words(words: Iterable[Word], scale: float) -> list[Word]:
    """Word boxes moved from page pixels to an image scaled by ``scale``."""
    return [
        Word(w.text, round(w.left * scale), round(w.top * scale), max(1, round(w.width * scale)),
             max(1, round(w.height * scale)), w.conf, w.line)
        for w in words
    ]


# --- searchable PDF ----------------------------------------------------------------------

_a85_lock = threading.Lock()
_a85_users = 0
_a85_saved: object = None


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    """Turn off reportlab's ASCII85 stream encoding while building (it inflates JPEGs by 25%).

    ``useA85`` is a process-wide setting; a counter keeps concurrent builds from
    restoring it under each other's feet.
    """
    global _a85_users, _a85_saved
    with _a85_lock:
        if _a85_users == 0:
            _a85_saved = rl_config.useA85
            rl_config.useA85 = 0
        _a85_users += 1
    try:
        yield
    finally:
        with _a85_lock:
            _a85_users -= 1
            if _a85_users == 0:
                rl_config.useA85 = _a85_saved


def _pdf_text(text: str) -> str:
    """Text the standard PDF font can encode (WinAnsi): accents stay, the rest degrades."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(base or "?")
    return "".join(out)


def _line_boxes(words: Sequence[Word]) -> dict[int, tuple[int, int]]:
    """Top and bottom of each OCR line, so the words of a line share a baseline and size."""
    boxes: dict[int, tuple[int, int]] = {}
    for w in words:
        top, bottom = boxes.get(w.line, (w.top, w.top + w.height))
        boxes[w.line] = (min(top, w.top), max(bottom, w.top + w.height))
    return boxes


def _draw_page(canvas: Canvas, page: PdfPage, jpeg_path: str) -> None:
    k = 72.0 / page.dpi
    pw, ph = page.width * k, page.height * k
    canvas.setPageSize((pw, ph))
    canvas.drawImage(jpeg_path, 0, 0, width=pw, height=ph)
    lines = _line_boxes(page.words)
    text = canvas.beginText()
    text.setTextRenderMode(3)  # invisible: selectable and searchable, the image shows through
    for w in page.words:
        word = _pdf_text(w.text)
        if not word.strip() or w.width <= 0:
            continue
        top, bottom = lines[w.line]
        if bottom - top > 2 * w.height:  # no usable line numbers: fall back on the word's box
            top, bottom = w.top, w.top + w.height
        size = max(1.0, (bottom - top) * k)
        natural = stringWidth(word, _PDF_FONT, size)
        if natural <= 0:
            continue
        text.setFont(_PDF_FONT, size)
        text.setHorizScale(100.0 * w.width * k / natural)
        # Helvetica's descender is ~0.2 em: put the baseline that far above the line's bottom.
        text.setTextOrigin(w.left * k, ph - bottom * k + 0.2 * size)
        text.textOut(word + " ")  # explicit space: extractors need not guess word breaks
    canvas.drawText(text)
    canvas.showPage()


def build_searchable_pdf(pages: Iterable[PdfPage], out: BinaryIO, *,
                         title: str = "Documento escaneado",
                         subject: str = "Documento escaneado con texto buscable",
                         scratch: str | os.PathLike[str] | None = None) -> None:
    """Write an image-over-invisible-text PDF, one page at a time.

    Each JPEG is embedded as is (DCTDecode, never decoded or re-encoded), so the
    only thing that grows while pages stream in is the PDF itself, which
    reportlab assembles in memory until the final write.  Page size follows the
    JPEG's dpi: A4 at 150 dpi (1240x1754 px) gives 595x842 pt.
    """
    with _binary_streams(), tempfile.TemporaryDirectory(prefix="archivo-pdf-", dir=scratch) as tmp:
        canvas = new_canvas(out, title=title, subject=subject, pageCompression=1)
        for n, page in enumerate(pages):
            # reportlab only passes a JPEG through untouched when given a .jpg file name
            # (a file-like object gets decoded just to fingerprint it).
            path = os.path.join(tmp, f"p{n}.jpg")
            with open(path, "wb") as fh:
                fh.write(page.jpeg)
            _draw_page(canvas, page, path)
            os.remove(path)
        canvas.save()
