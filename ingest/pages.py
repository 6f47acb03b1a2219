"""Turn an accepted file (PDF, TIFF, JPEG, PNG on local disk) into normalised pages.

``count_pages`` validates what can be validated without decoding pixels: the
page count and every page's declared size. ``iter_pages`` then yields one
``SourcePage`` at a time; only the current page is held in memory (TIFF frames
are decoded one by one, PDF pages rendered one by one).

Decisions, so that a hostile or broken file never crashes or exhausts a worker:

* Every decoding step runs inside ``_guard``: any exception from Pillow or
  pdfium (OSError, ValueError, TypeError, SyntaxError, EOFError, struct.error,
  PdfiumError, ...) becomes ``RejectedInput`` with a Spanish message, the
  original chained for the log. The price: a bug in this module would also show
  up as ``RejectedInput("danado")`` with the exception named in the message.
* Sizes are checked before decoding: each TIFF frame's declared width x height
  (Pillow checks only the first frame), each PDF page's size at render dpi.
  Pillow's own check is a second line: ``Image.MAX_IMAGE_PIXELS`` is set to
  ``limits.max_page_pixels`` while we decode and ``DecompressionBombWarning``
  is raised as an error (both restored afterwards).
* ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False (Pillow's default; this module
  never changes it): a truncated image is rejected (``truncado``) instead of
  being archived with a grey band where the missing part was. A PDF with no
  ``%%EOF`` in its last 4 KiB is rejected as truncated too, although pdfium
  could often rebuild it: the rebuilt document may silently lack pages.
* A PDF page tree that declares more than ``max_pages`` pages is rejected
  (``paginas``) even when pdfium, which ignores absurd ``/Count`` values,
  finds fewer: the file lies about itself.
* PDF pages whose page size at ``render_dpi`` exceeds ``max_page_pixels`` are
  rendered at a lower dpi (not below 50); only larger pages are rejected. A
  page embedding an image over ``max_page_pixels`` is rejected before
  rendering (pdfium would decode it whole); that check needs the page parsed,
  so it runs in ``iter_pages``, not in ``count_pages``.
* pdfium is not thread-safe: every pdfium call in this module holds
  ``_PDFIUM_LOCK`` (never across a ``yield``).
* A page with a real text layer (>= 20 visible characters, <= 10 % unmapped
  glyphs) is a born-digital page: rendered in colour at 150 dpi for viewing,
  with ``text_layer`` and ``words``. Invisible OCR text added by a scanner
  counts as a text layer too.
* DPI: declared values outside 50..1200 dpi, or implying a sheet longer than
  A0, are replaced by an estimate from the pixel size (A4, Letter, Oficio or
  Legal shape) or else 200. The screen defaults 72/96 dpi are replaced too
  when the image has a paper shape at >= 150 dpi. Non-square pixels (fax
  204x98 dpi) are resampled to square.
"""

from __future__ import annotations

import ctypes
import io
import math
import mmap
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageFile, UnidentifiedImageError

from ingest.banded_gray import exif_orientation, flatten_onto_white, png_gray, tiff_gray
from ingest.errors import RejectedInput
from ingest.limits import DEFAULT_LIMITS, Limits
from ingest.pillow_private import drop_pixels, take_pixels
from ingest.sniff import KINDS, FileKind
from archive.words import Word

TEXT_DPI = 150  # born-digital pages: the image is only for viewing
MIN_TEXT_CHARS = 20  # visible characters for a page to count as born-digital
MAX_UNMAPPED_RATIO = 0.10  # more garbage glyphs than this: not a real text layer
MIN_DPI, MAX_DPI = 50, 1200
FALLBACK_DPI = 200
SCREEN_DPIS = (72, 96)  # defaults written by software that knows no resolution
MAX_SHEET_INCHES = 47.0  # long side of A0; a longer "sheet" means a bogus dpi
MIN_RENDER_DPI = 50
PDF_EOF_WINDOW = 4096
MAX_FORM_DEPTH = 15  # nesting of form XObjects searched for embedded images
MAX_CHECKED_OBJECTS = 200_000  # page objects inspected for embedded images, per page

# (short side, long side) in inches: A4, Letter, Oficio (8.5x13), Legal.
PAPER_SIZES = ((8.27, 11.69), (8.5, 11.0), (8.5, 13.0), (8.5, 14.0))
COMMON_DPIS = (75, 100, 150, 200, 240, 300, 400, 600, 1200)

_PIL_FORMAT = {"tiff": "TIFF", "jpeg": "JPEG", "png": "PNG"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_PAGES_OBJECT = re.compile(rb"/Type\s*/Pages\b")
_DECLARED_COUNT = re.compile(rb"/Count\s*(\d{1,20})")
_PILLOW_PIXELS = re.compile(r"\((\d+) pixels\)")
_PDFIUM_LOCK = threading.RLock()
_PDFIUM_REASONS = {
    pdfium_c.FPDF_ERR_FORMAT: "estructura interna inválida",
    pdfium_c.FPDF_ERR_FILE: "no se pudo leer el archivo",
    pdfium_c.FPDF_ERR_PAGE: "páginas inválidas",
    pdfium_c.FPDF_ERR_UNKNOWN: "error desconocido",
}


@dataclass
class SourcePage:
    """One normalised page: an upright ``L`` or ``RGB`` image and what is known about it.

    ``text_layer`` and ``words`` are set only for born-digital PDF pages; word
    boxes are in pixels of ``image`` (rendered at ``dpi``), ``conf`` 100.
    """

    number: int  # 1-based
    image: Image.Image
    dpi: int
    text_layer: str | None = None
    words: list[Word] | None = None


def count_pages(
    path: str | os.PathLike[str], kind: FileKind | str, limits: Limits = DEFAULT_LIMITS
) -> int:
    """Number of pages, after checking count and page sizes without decoding pixels.

    Raises ``RejectedInput`` (``paginas``, ``bomba``, ``cifrado``, ``danado``,
    ``truncado``, ...) for anything that must not be rendered.
    """
    file_kind = _as_kind(kind)
    if file_kind.kind == "pdf":
        return _pdf_count(path, limits)
    return _image_count(path, file_kind, limits)


def iter_pages(
    path: str | os.PathLike[str], kind: FileKind | str, limits: Limits = DEFAULT_LIMITS,
    *, gray: bool = False,
) -> Iterator[SourcePage]:
    """Yield the pages one at a time; runs ``count_pages`` first.

    ``gray``: raster pages come as ``L`` even when scanned in colour, for callers
    that only OCR them (every derivative of a scan is grey).  Pillow stores a
    colour pixel in four bytes and a grey one in one, so a 9000x9000 colour page
    is 324 MB against 81 MB; a JPEG is then decoded straight to grey (luma only).
    Scanned PDF pages are rendered grey anyway; born-digital ones stay in colour.

    May raise ``RejectedInput`` in the middle of the stream (a page that cannot
    be decoded): the caller must then discard the pages already received.
    """
    file_kind = _as_kind(kind)
    total = count_pages(path, file_kind, limits)
    if file_kind.kind == "pdf":
        yield from _pdf_pages(path, total, limits)
    else:
        yield from _image_pages(path, file_kind, total, limits, gray)


def _as_kind(kind: FileKind | str) -> FileKind:
    if isinstance(kind, FileKind):
        return kind
    return KINDS[kind]


# --- errors -----------------------------------------------------------------


@contextmanager
def _guard(what: str, limits: Limits) -> Iterator[None]:
    """Turn any decoding failure inside the block into ``RejectedInput``.

    ``what`` names the part being read, e.g. "la página 3". Never wrap a yield.
    """
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limits.max_page_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except RejectedInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = _PILLOW_PIXELS.search(str(exc))
        pixels = f"{_num(int(found.group(1)))} píxeles" if found else "demasiados píxeles"
        raise _bomb(f"{_capital(what)} declara una imagen de {pixels}", limits) from exc
    except MemoryError as exc:
        raise RejectedInput(
            "memoria",
            f"No hay memoria suficiente para decodificar {what}. Si el documento es "
            "legítimo, vuelva a escanearlo a menor resolución (300 ppp bastan).",
        ) from exc
    except Exception as exc:  # noqa: BLE001 - hostile input may raise anything
        raise _damaged(what, exc) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _damaged(what: str, exc: BaseException) -> RejectedInput:
    detail = f"{type(exc).__name__}: {exc}"[:160]
    if isinstance(exc, EOFError) or "truncat" in str(exc).lower():
        return _truncated(f"no se pudo leer {what} hasta el final ({detail})")
    return RejectedInput(
        "danado",
        f"El archivo está dañado: no se pudo leer {what} ({detail}). Verifique si abre "
        "en un visor y vuelva a escanear o a exportar el documento.",
    )


def _truncated(why: str) -> RejectedInput:
    return RejectedInput(
        "truncado",
        f"El archivo está incompleto (truncado): {why}. Probablemente la copia o la "
        "transferencia se interrumpió; vuelva a copiar el archivo original o vuelva a "
        "escanear el documento.",
    )


def _bomb(claim: str, limits: Limits) -> RejectedInput:
    return RejectedInput(
        "bomba",
        f"{claim}; el máximo admitido es {_num(limits.max_page_pixels)} píxeles por "
        "página. El archivo está dañado o es malicioso; si es un escaneo legítimo, "
        "vuelva a escanearlo a menor resolución (300 ppp bastan).",
    )


def _too_many_pages(count: str, limits: Limits) -> RejectedInput:
    return RejectedInput(
        "paginas",
        f"El documento tiene {count} páginas y el máximo admitido es "
        f"{_num(limits.max_pages)}. Divídalo en partes de hasta {_num(limits.max_pages)} "
        "páginas y cárguelas por separado.",
    )


def _num(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- raster images (TIFF, JPEG, PNG) --------------------------------------------


class _SkipJunk(io.RawIOBase):
    """Read-only view of a binary file that starts ``offset`` bytes in."""

    def __init__(self, raw: IO[bytes], offset: int) -> None:
        super().__init__()
        self._raw = raw
        self._offset = offset
        raw.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._raw.readinto(buffer)  # type: ignore[attr-defined,no-any-return]

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos += self._offset
        return max(0, self._raw.seek(pos, whence) - self._offset)

    def tell(self) -> int:
        return max(0, self._raw.tell() - self._offset)


@contextmanager
def _open_image(
    path: str | os.PathLike[str], kind: FileKind, limits: Limits
) -> Iterator[ImageFile.ImageFile]:
    with open(path, "rb") as raw:
        source: IO[bytes] = _SkipJunk(raw, kind.offset) if kind.offset else raw  # type: ignore[assignment]
        with _guard("la página 1", limits):
            try:
                image = Image.open(source, formats=[_PIL_FORMAT[kind.kind]])
            except UnidentifiedImageError as exc:
                raise RejectedInput(
                    "danado",
                    f"El archivo parece un {kind.kind.upper()} pero su contenido no se puede "
                    "interpretar: está dañado o incompleto. Vuelva a escanear o a exportar "
                    "el documento.",
                ) from exc
        try:
            yield image
        finally:
            image.close()


def _image_count(path: str | os.PathLike[str], kind: FileKind, limits: Limits) -> int:
    with _open_image(path, kind, limits) as image:
        _check_pixels(image.size, 1, limits)
        if kind.kind != "tiff":
            return 1  # the first frame of an APNG or MPO is the page
        count = 1
        while _seek(image, count, limits):
            count += 1
            if count > limits.max_pages:
                raise _too_many_pages(f"más de {_num(limits.max_pages)}", limits)
            _check_pixels(image.size, count, limits)
        return count


def _seek(image: ImageFile.ImageFile, index: int, limits: Limits) -> bool:
    """Select frame ``index`` (reads its header only); False past the last frame."""
    with _guard(f"la página {index + 1}", limits):
        try:
            image.seek(index)
        except EOFError:
            return False
    return True


def _check_pixels(size: tuple[int, int], number: int, limits: Limits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise RejectedInput(
            "danado",
            f"La página {number} declara un tamaño de {width}x{height} píxeles, que no es "
            "válido: el archivo está dañado. Vuelva a escanear el documento.",
        )
    if width * height > limits.max_page_pixels:
        raise _bomb(
            f"La página {number} declara {width}x{height} píxeles "
            f"({_num(width * height)} en total)",
            limits,
        )


def _image_pages(
    path: str | os.PathLike[str], kind: FileKind, total: int, limits: Limits, gray: bool
) -> Iterator[SourcePage]:
    with _open_image(path, kind, limits) as image:
        for index in range(total):
            number = index + 1
            with _guard(f"la página {number}", limits):
                if index:
                    image.seek(index)
                _check_pixels(image.size, number, limits)
                page = _normalize(image, number, limits, gray=gray)
            yield page
            del page


# Bytes a pixel in Pillow's memory by mode (4 for RGB, RGBA, CMYK, LA, I, F, ...).
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}


def _check_whole_decode(frame: ImageFile.ImageFile, number: int, limits: Limits, *,
                        gray: bool) -> None:
    """Refuse a page whose whole decoding would exceed the worker's memory budget.

    A JPEG read for OCR is decoded as grey (``draft``), one byte a pixel."""
    width, height = frame.size
    grey_jpeg = gray and frame.format == "JPEG" and frame.mode in ("L", "RGB")  # CMYK: no draft
    need = width * height * (1 if grey_jpeg else _PIXEL_BYTES.get(frame.mode, 4))
    if need <= limits.max_whole_decode_bytes:
        return
    raise RejectedInput(
        "demasiado_grande",
        f"La página {number} ({width}x{height} píxeles, {_num(width * height)} en total) "
        f"necesita {need // (1024 * 1024)} MB de memoria para leerse entera en este formato "
        f"(el máximo es {limits.max_whole_decode_bytes // (1024 * 1024)} MB). Escanéela a "
        "300 ppp o en escala de grises, o guárdela como PNG o TIFF sin compresión JPEG.",
    )


def _normalize(frame: ImageFile.ImageFile, number: int, limits: Limits, *,
               gray: bool = False) -> SourcePage:
    """Decode the current frame into an upright L/RGB image with a sane dpi.

    At most one full-size intermediate lives at a time: each step frees the
    image it replaces, and the decoded pixels are taken from the frame, not copied.
    """
    banded = (png_gray(frame) or tiff_gray(frame)) if gray else None
    if banded is not None:
        image, orientation = banded
    else:
        _check_whole_decode(frame, number, limits, gray=gray)
        if gray:
            frame.draft("L", None)  # JPEG: decode the luma only; other formats ignore it
        frame.load()
        orientation = exif_orientation(frame)
        image = _to_l_or_rgb(frame)
    dpi_x, dpi_y = _declared_dpi(frame)
    if gray and image.mode != "L":
        image = _replace(image, image.convert("L"))
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        image = _replace(image, image.transpose(method))
        if orientation >= 5:  # quarter turn: axes swap
            dpi_x, dpi_y = dpi_y, dpi_x
    image, dpi = _settle_dpi(image, dpi_x, dpi_y, limits)
    return SourcePage(number=number, image=image, dpi=dpi)



def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    """``new``, with ``old``'s pixels freed now rather than whenever it is collected."""
    if new is not old:
        old.close()
    return new


def _to_l_or_rgb(image: Image.Image) -> Image.Image:
    """A new ``L`` or ``RGB`` image that owns the pixels; the frame keeps none.

    Transparency is flattened onto white.
    """
    if image.mode in ("L", "RGB"):
        return take_pixels(image)
    converted = _converted(image)
    drop_pixels(image)
    return converted


def _converted(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "1":
        return image.convert("L")
    if mode == "P":
        if "transparency" in image.info:
            return flatten_onto_white(image.convert("RGBA"))
        return image.convert("L" if _gray_palette(image) else "RGB")
    if mode in ("LA", "RGBA"):
        return flatten_onto_white(image)  # no converted copy: a colour pixel is 4 bytes already
    if mode == "La":
        return flatten_onto_white(image.convert("LA"))
    if mode in ("RGBa", "PA"):
        return flatten_onto_white(image.convert("RGBA"))
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _to_8bit(image)
    return image.convert("RGB")  # CMYK, YCbCr, RGBX, ...


def _gray_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale a 16/32-bit or float grey image to 8 bits.

    16-bit data is scaled by its declared bit depth (12-bit TIFF: 4095 is white).
    32-bit integers use 0..255 or 0..65535 when they fit, floats 0..1; any other
    range is stretched from its minimum to its maximum.
    """
    floats = image.mode == "F"
    if image.mode.startswith("I;16"):
        low, full = 0.0, float(2 ** _bits_per_sample(image, 16) - 1)
    else:
        lows, highs = zip(*((float(b.min()), float(b.max())) for _, b in _blocks(image)))
        low, high = min(lows), max(highs)
        if low >= 0 and high <= (1.0 if floats else 255):
            low, full = 0.0, (1.0 if floats else 255.0)
        elif low >= 0 and high <= 65535:
            low, full = 0.0, 65535.0
        else:
            full = high
    span = max(full - low, 1e-9)
    out = np.empty((image.height, image.width), dtype=np.uint8)
    for top, block in _blocks(image):
        out[top : top + block.shape[0]] = np.clip((block - low) * (255.0 / span) + 0.5, 0, 255)
    return Image.fromarray(out)


def _blocks(image: Image.Image) -> Iterator[tuple[int, np.ndarray]]:
    """Bands of rows as float32 arrays (NaN and infinities as 0): bounded temporary memory.

    ``np.asarray`` of the whole page would copy it at once (600 MB for a 16-bit
    page at the pixel limit).
    """
    rows = max(1, 4_000_000 // max(1, image.width))
    for top in range(0, image.height, rows):
        band = image.crop((0, top, image.width, min(image.height, top + rows)))
        block = np.asarray(band).astype(np.float32)
        band.close()
        yield top, np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)


def _bits_per_sample(image: Image.Image, default: int) -> int:
    tags = getattr(image, "tag_v2", None)
    try:
        value = tags.get(258) if tags is not None else None
        bits = int(value[0] if isinstance(value, tuple) else value)
    except (TypeError, ValueError, IndexError):
        return default
    return bits if 1 <= bits <= default else default


def _declared_dpi(image: Image.Image) -> tuple[float | None, float | None]:
    raw = image.info.get("dpi")
    try:
        x = float(raw[0])  # type: ignore[index]
        y = float(raw[1]) if len(raw) > 1 else x  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - missing, zero-division rationals, junk
        return None, None
    return (x if math.isfinite(x) and x > 0 else None, y if math.isfinite(y) and y > 0 else None)


def _settle_dpi(
    image: Image.Image, dpi_x: float | None, dpi_y: float | None, limits: Limits
) -> tuple[Image.Image, int]:
    """Pick a trustworthy dpi; resample non-square pixels (fax) to square ones."""
    width, height = image.size
    x = dpi_x if _plausible(dpi_x, width) else None
    y = dpi_y if _plausible(dpi_y, height) else None
    paper = paper_dpi(width, height)
    if x is None or y is None:
        x = x or y
        if x is None:
            return image, paper or FALLBACK_DPI
        y = x
    if round(x) in SCREEN_DPIS and round(y) in SCREEN_DPIS and paper and paper >= 150:
        return image, paper
    if abs(x - y) > 0.1 * max(x, y):
        new_height = round(height * x / y)
        if 1 <= new_height and width * new_height <= limits.max_page_pixels:
            image = _replace(image, image.resize((width, new_height), Image.Resampling.LANCZOS))
    return image, round(x)


def _plausible(dpi: float | None, pixels: int) -> bool:
    return dpi is not None and MIN_DPI <= dpi <= MAX_DPI and pixels / dpi <= MAX_SHEET_INCHES


def paper_dpi(width: int, height: int) -> int | None:
    """The dpi at which ``width`` x ``height`` pixels is a whole A4/Letter/Oficio/Legal sheet."""
    short, long = sorted((width, height))
    best: tuple[float, float] | None = None  # (mismatch, dpi)
    for paper_short, paper_long in PAPER_SIZES:
        across, along = short / paper_short, long / paper_long
        mismatch = abs(across - along) / max(across, along)
        if mismatch <= 0.05 and (best is None or mismatch < best[0]):
            best = (mismatch, (across + along) / 2)
    if best is None:
        return None
    estimate = best[1]
    for common in COMMON_DPIS:
        if abs(estimate - common) <= 0.05 * common:
            estimate = common
            break
    return round(estimate) if MIN_DPI <= estimate <= MAX_DPI else None


# --- PDF ----------------------------------------------------------------------


@contextmanager
def _pdfium_step(what: str, limits: Limits) -> Iterator[None]:
    with _PDFIUM_LOCK, _guard(what, limits):
        yield


def _pdf_count(path: str | os.PathLike[str], limits: Limits) -> int:
    _check_pdf_bytes(path, limits)
    pdf = _load_pdf(path, limits, forms=False)
    try:
        with _pdfium_step("el índice de páginas del PDF", limits):
            total = len(pdf)
            if total > limits.max_pages:
                raise _too_many_pages(_num(total), limits)
            size = pdfium_c.FS_SIZEF()
            for index in range(total):
                if not pdfium_c.FPDF_GetPageSizeByIndexF(pdf.raw, index, ctypes.byref(size)):
                    raise RejectedInput(
                        "danado",
                        f"El PDF está dañado: su índice anuncia {_num(total)} páginas pero la "
                        f"página {index + 1} no existe o no se puede leer. Vuelva a exportar o "
                        "a escanear el documento.",
                    )
                _fit_dpi(size.width, size.height, limits.render_dpi, index + 1, limits)
    finally:
        _close_pdf(pdf)
    return total


def _check_pdf_bytes(path: str | os.PathLike[str], limits: Limits) -> None:
    """Reject a PDF cut short or whose page tree declares too many pages (raw bytes)."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        tail = data[max(0, len(data) - 65536) :].rstrip(b"\x00\t\n\r\x0c ")
        if b"%%EOF" not in tail[-PDF_EOF_WINDOW:]:
            raise _truncated("el PDF no termina con la marca %%EOF")
        for match in _DECLARED_COUNT.finditer(data):  # type: ignore[call-overload]
            declared = int(match.group(1))
            if declared <= limits.max_pages:
                continue
            start = max(0, data.rfind(b"obj", max(0, match.start() - 4096), match.start()))
            end = data.find(b"endobj", match.end(), match.end() + 4096)
            if _PAGES_OBJECT.search(data[start : end if end > 0 else match.end() + 256]):
                raise RejectedInput(
                    "paginas",
                    f"El PDF declara {_num(declared)} páginas, más que el máximo admitido "
                    f"({_num(limits.max_pages)}); el archivo está dañado o es malicioso. "
                    "Vuelva a exportar o a escanear el documento; si realmente es tan "
                    "extenso, divídalo en partes.",
                )


def _load_pdf(path: str | os.PathLike[str], limits: Limits, *, forms: bool) -> pdfium.PdfDocument:
    with _pdfium_step("el PDF", limits):
        try:
            pdf = pdfium.PdfDocument(os.fspath(path))
        except pdfium.PdfiumError as exc:
            raise _pdf_open_error(exc) from exc
        if forms:
            try:
                pdf.init_forms()  # so filled-in form fields are drawn
            except pdfium.PdfiumError:
                pass  # forms are a nicety; the page content still renders
        return pdf


def _pdf_open_error(exc: pdfium.PdfiumError) -> RejectedInput:
    code = exc.err_code
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return RejectedInput(
            "cifrado",
            "El PDF está protegido con contraseña y no se puede leer. Ábralo con la "
            "contraseña, quite la protección (por ejemplo, guardándolo o imprimiéndolo "
            "como un PDF nuevo sin seguridad) y vuelva a cargarlo.",
        )
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return RejectedInput(
            "cifrado",
            "El PDF usa un sistema de protección que no se puede abrir. Quite la "
            "protección (guárdelo o imprímalo como un PDF nuevo sin seguridad) y vuelva "
            "a cargarlo.",
        )
    if code == pdfium_c.FPDF_ERR_SUCCESS:
        return RejectedInput(
            "danado",
            "El PDF no tiene ninguna página legible: su índice de páginas está vacío o "
            "dañado. Vuelva a exportar o a escanear el documento.",
        )
    reason = _PDFIUM_REASONS.get(code, f"error de PDFium {code}")
    return RejectedInput(
        "danado",
        f"El PDF está dañado y no se puede abrir ({reason}). Vuelva a exportar o a "
        "escanear el documento.",
    )


def _close_pdf(pdf: pdfium.PdfDocument) -> None:
    with _PDFIUM_LOCK:
        pdf.close()


def _fit_dpi(width_pt: float, height_pt: float, wanted: int, number: int, limits: Limits) -> int:
    """``wanted`` dpi, lowered so the rendered page stays within ``max_page_pixels``."""
    if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or min(width_pt, height_pt) < 1:
        raise RejectedInput(
            "danado",
            f"La página {number} del PDF declara un tamaño inválido ({width_pt} x "
            f"{height_pt} puntos): el archivo está dañado. Vuelva a exportar o a escanear "
            "el documento.",
        )

    def pixels(dpi: int) -> int:
        return math.ceil(width_pt * dpi / 72) * math.ceil(height_pt * dpi / 72)

    dpi = min(wanted, math.floor(72 * math.sqrt(limits.max_page_pixels / (width_pt * height_pt))))
    while dpi >= MIN_RENDER_DPI and pixels(dpi) > limits.max_page_pixels:
        dpi -= 1
    if dpi < MIN_RENDER_DPI:
        raise _bomb(
            f"La página {number} del PDF mide {_num(round(width_pt / 72))} x "
            f"{_num(round(height_pt / 72))} pulgadas y ni a {MIN_RENDER_DPI} ppp cabe en el límite",
            limits,
        )
    return dpi


def _pdf_pages(path: str | os.PathLike[str], total: int, limits: Limits) -> Iterator[SourcePage]:
    pdf = _load_pdf(path, limits, forms=True)
    try:
        for index in range(total):
            with _pdfium_step(f"la página {index + 1} del PDF", limits):
                page = _render_pdf_page(pdf, index, limits)
            yield page
            del page
    finally:
        _close_pdf(pdf)


def _render_pdf_page(pdf: pdfium.PdfDocument, index: int, limits: Limits) -> SourcePage:
    number = index + 1
    page = pdf[index]
    textpage = None
    try:
        _check_embedded_images(page, number, limits)
        textpage = page.get_textpage()
        text = _real_text(textpage)
        width_pt, height_pt = page.get_size()
        dpi = _fit_dpi(width_pt, height_pt, TEXT_DPI if text else limits.render_dpi, number, limits)
        bitmap = page.render(
            scale=dpi / 72,
            grayscale=text is None,  # scans go to OCR; born-digital pages are for viewing
            rev_byteorder=True,
            may_draw_forms=True,
        )
        try:
            image = bitmap.to_pil()  # owns (a reference to) the Python-side buffer
        finally:
            bitmap.close()
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        words = _pdf_words(page, textpage, image.size) if text else None
    finally:
        if textpage is not None:
            textpage.close()
        page.close()
    return SourcePage(number=number, image=image, dpi=dpi, text_layer=text, words=words)


def _check_embedded_images(page: pdfium.PdfPage, number: int, limits: Limits) -> None:
    """Reject a page embedding an image larger than ``max_page_pixels`` before pdfium decodes it."""
    width, height = ctypes.c_uint(), ctypes.c_uint()
    pending: list[tuple[bool, object, int]] = [(False, page.raw, 0)]
    budget = MAX_CHECKED_OBJECTS  # nested forms can multiply; never hang here
    while pending and budget > 0:
        is_form, parent, depth = pending.pop()
        count = (pdfium_c.FPDFFormObj_CountObjects if is_form else pdfium_c.FPDFPage_CountObjects)(parent)
        get = pdfium_c.FPDFFormObj_GetObject if is_form else pdfium_c.FPDFPage_GetObject
        count = min(max(count, 0), budget)
        budget -= count
        for index in range(count):
            obj = get(parent, index)
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < MAX_FORM_DEPTH:
                pending.append((True, obj, depth + 1))
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE and pdfium_c.FPDFImageObj_GetImagePixelSize(
                obj, ctypes.byref(width), ctypes.byref(height)
            ):
                if width.value * height.value > limits.max_page_pixels:
                    raise _bomb(
                        f"La página {number} del PDF contiene una imagen de "
                        f"{width.value}x{height.value} píxeles",
                        limits,
                    )


def _real_text(textpage: pdfium.PdfTextPage) -> str | None:
    """The page text when it is a usable text layer, else None."""
    if textpage.count_chars() <= 0:
        return None
    text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    visible = [c for c in text if not c.isspace()]
    if len(visible) < MIN_TEXT_CHARS:
        return None
    unmapped = sum(1 for c in visible if _unmapped(c))
    if unmapped > MAX_UNMAPPED_RATIO * len(visible):
        return None
    return text.strip()


def _unmapped(char: str) -> bool:
    return char in "\ufffd\ufffe\uffff" or unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn")


def _pdf_words(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, size: tuple[int, int]) -> list[Word]:
    """Group pdfium's characters into words with boxes in rendered-image pixels."""
    width, height = size
    words: list[Word] = []
    letters: list[str] = []
    box: list[float] = []  # left, bottom, right, top in PDF units
    line = 0
    previous = ""
    rect = pdfium_c.FS_RECTF()

    def flush() -> None:
        if letters and box:
            words.append(_device_word(page, "".join(letters), box, line, width, height))
        letters.clear()
        box.clear()

    for index in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        char = chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else " "
        if char.isspace():
            flush()
            if char in "\r\n" and not (char == "\n" and previous == "\r"):
                line += 1
            previous = char
            continue
        previous = char
        letters.append(char)
        if pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(rect)):
            left, right = sorted((rect.left, rect.right))
            bottom, top = sorted((rect.bottom, rect.top))
            if box:
                box[:] = [min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)]
            else:
                box[:] = [left, bottom, right, top]
    flush()
    return words


def _device_word(
    page: pdfium.PdfPage, text: str, box: list[float], line: int, width: int, height: int
) -> Word:
    corners = [_to_device(page, box[0], box[1], width, height), _to_device(page, box[2], box[3], width, height)]
    xs = sorted(min(max(x, 0), width) for x, _ in corners)
    ys = sorted(min(max(y, 0), height) for _, y in corners)
    left, top = min(xs[0], width - 1), min(ys[0], height - 1)
    return Word(
        text=text,
        left=left,
        top=top,
        width=max(1, xs[1] - left),
        height=max(1, ys[1] - top),
        conf=100.0,
        line=line,
    )


def _to_device(page: pdfium.PdfPage, x: float, y: float, width: int, height: int) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
    return dx.value, dy.value
