"""Page OCR: orientation, deskew and one Tesseract run per page.

Cost model, measured on this 2-core machine with Debian's ``tessdata_fast``
models on A4 pages from ``make_corpus.py``: plain ``tesseract page.png out -l
spa+eng`` costs only 0.5-0.8 s of CPU per page, so every extra step is weighed
against that.  A full-size OSD run (``--psm 0``) costs 0.5-0.75 s, as much as the
OCR itself; on a 150 dpi copy still ~0.45 s; at 100 dpi it is unreliable (wrong,
or "too few characters", on about a third of the pages).  OSD on every page
would roughly halve throughput, so it is only a fallback.

Orientation strategy:

1. A numpy analysis of a ~100 dpi box-reduced copy (~10-20 ms per A4 page)
   gives skew and orientation together.  Table rules and underlines are
   removed first (runs of ink longer than 0.25 in).  Text lines make the row
   projection profile spiky: its energy, maximised over ±6° of shear, gives
   the skew, and the best row energy against the best column energy tells
   horizontal from vertical text.  Up versus down weighs two cues: Latin text
   has more ink above the x-height band (capitals, ascenders, accents) than
   below it (descenders), and line starts line up better than line ends in
   left-aligned text.  Measured: right rotation on 836/836 corpus pages x
   orientations (none/light/heavy degradation, 200/300 dpi, grey and bilevel,
   three seeds) and on 224/224 synthetic layouts (justified, centred, all
   caps, two columns, ruled tables, right-aligned; 8-14 pt; grey and RGB);
   skew error at most 0.12°.
2. Safety net: when the OCR pass looks wrong, or the analysis was unsure
   (confidence under ``UNSURE``: sparse pages, right-aligned text), Tesseract
   OSD runs on a ~150 dpi copy and, if it proposes another rotation, the page
   is OCR'd again that way; when OSD cannot tell (too few characters) the
   flipped page is tried.  The better pass is kept.  "Looks wrong" is a mean
   word confidence under ``SUSPECT_CONF`` (upright corpus pages score 90-96,
   upside-down ones 43-56, though a two-line page read upside down scored 71)
   or most words boxed taller than wide (Tesseract reads a page lying on its
   side with good confidence, but boxes its words sideways).  Only such pages
   pay for OSD (~0.5 s) and a second OCR; none did in the benchmark.
3. Little text (under ``SHORT_TEXT`` characters read): both the analysis and
   OSD are unreliable on a line or two (an upright 150 dpi one-liner was given
   270° with confidence 1.0), so all four orientations are OCR'd, which is
   cheap with so little text.  Whenever other turns are tried, the page as it
   came is one of them, and turning an upright page must read ``AS_IS_MARGIN``
   better than leaving it: a weak answer never turns an upright page.

Other costs kept down, all measured:

- deskew rotates with nearest neighbour: 23 ms on a 300 dpi A4 page against
  96 ms bilinear or 284 ms bicubic, with the same Tesseract word recall;
- Tesseract gets an uncompressed TIFF in a temporary file: PNG would cost
  0.3-0.6 s to encode, stdin is slower than a file, and Leptonica parses PGM
  ~60 ms slower than TIFF;
- blank paper is cropped off before OCR (``content_box``): Tesseract spends
  ~0.3 s per 300 dpi A4 page just scanning paper (blank page 0.45 s, tiny
  image 0.15 s), so a half-empty letter OCRs ~15% faster.

End to end (``bench/ocr_speed.py``: orientation + deskew + OCR + web image +
thumbnail, PNG decoding included, 2 threads, against 2 parallel ``tesseract``
processes on the same PNGs) the pipeline needs 0-4% more CPU per page than
plain Tesseract (CPU-time throughput ratio 0.96-1.00 on light, heavy and
self-generated pages); wall-clock ratios swung between 0.82 and 1.13 with the
load other processes put on the shared machine.
"""

from __future__ import annotations

import functools
import os

# Tesseract's OpenMP threads fight each other when several pages are OCR'd in
# parallel on few cores: 6 pages, 2 at a time, took 7.2 s without this limit
# and 1.9 s with it.  Set before any tesseract subprocess inherits the environment.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import math  # noqa: E402
import struct  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Union  # noqa: E402

import numpy as np  # noqa: E402
import pytesseract  # noqa: E402
from PIL import Image  # noqa: E402

from archive.errors import ArchivoError  # noqa: E402
from ingest import scratch as scratch_space  # noqa: E402
from ingest.errors import RejectedInput, TransientError  # noqa: E402
from archive.words import Word  # noqa: E402

TESSERACT_CMD = "tesseract"
# Where page images and Tesseract's output are written: ARCHIVO_HOME/tmp for a worker
# (ingest.process passes it); None, the system temporary folder (library use, tests).
Scratch = Union[str, "os.PathLike[str]", None]
SUSPECT_CONF = 65.0  # mean word confidence below which the orientation is double-checked
UNSURE = 0.5  # analysis confidence below which the orientation is double-checked anyway
SHORT_TEXT = 120  # characters read below which every orientation is compared by OCR
AS_IS_MARGIN = 1.1  # a turned page must read this much better than the page as it came
MIN_SKEW = 0.2  # degrees; smaller tilts are left alone
MAX_SKEW = 6.0  # degrees searched either way
_WORK_DPI = 100  # resolution of the analysis copy
_OSD_DPI = 150  # resolution of the OSD copy (100 dpi proved unreliable)
_INSTALL_HINT = (
    "Tesseract no está instalado: ejecute make run/make test o "
    "apt-get install tesseract-ocr tesseract-ocr-spa"
)


class TesseractMissing(ArchivoError):
    """Tesseract or one of its language files is not installed; nothing to retry until it is."""


@dataclass(frozen=True, slots=True)
class OcrResult:
    """Outcome of OCR on one page; ``words`` boxes are in ``image`` pixels."""

    text: str  # lines rebuilt from Tesseract's layout, paragraphs separated by a blank line
    words: list[Word]
    mean_conf: float  # 0..100, mean over words with a confidence
    rotation: int  # 0/90/180/270: degrees the input was turned clockwise to stand upright
    skew: float  # degrees the upright page was then turned counter-clockwise (PIL convention)
    image: Image.Image  # the corrected, upright grayscale page the boxes refer to


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """What the cheap analysis learnt about a page."""

    rotation: int  # clockwise degrees to make it upright
    confidence: float  # 0..1
    skew_h: float  # counter-clockwise tilt of the text if its lines are horizontal in the input
    skew_v: float  # same, if its lines are vertical in the input (page lying on its side)
    ink_level: int | None = None  # gray level below which a pixel counts as ink; None: no ink

    def skew_for(self, rotation: int) -> float:
        """Tilt of the text once the page is turned by ``rotation`` (quarter turns keep it)."""
        return self.skew_h if rotation in (0, 180) else self.skew_v


# --- cheap geometry analysis -------------------------------------------------------------


def _gray(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else image.convert("L")


def _image_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    try:
        value = int(round(float(dpi[0]))) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if value >= 50 else None


def _work_copy(image: Image.Image, dpi: int | None) -> tuple[Image.Image, float]:
    """A ~100 dpi grayscale copy and its resolution (box reduction: cheapest decent downscale)."""
    if dpi:
        factor = max(1, round(dpi / _WORK_DPI))
    else:  # unknown resolution: assume an A4/letter page, long side ~11.7 in
        factor = max(1, round(max(image.size) / (11.7 * _WORK_DPI)))
        dpi = round(max(image.size) / 11.7)
    if image.mode in ("L", "RGB") and factor > 1:
        return _gray(image.reduce(factor)), dpi / factor
    gray = _gray(image)
    return (gray.reduce(factor) if factor > 1 else gray), dpi / factor


def _window(a: np.ndarray, n: int, op: np.ufunc) -> np.ndarray:
    """``op`` over every window of ``n`` along the last axis (n-1 shorter), by doubling."""
    width = 1
    while width * 2 <= n:
        a = op(a[..., :-width], a[..., width:])
        width *= 2
    if width < n:
        a = op(a[..., : width - n], a[..., n - width :])
    return a


def _long_runs(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Pixels lying on a run of at least ``length`` ink pixels along ``axis`` (0 or 1)."""
    lines = ink if axis == 1 else ink.T
    if lines.shape[-1] < length:
        return np.zeros_like(ink)
    starts = _window(lines, length, np.logical_and)  # a full run begins here
    pad = np.zeros((*lines.shape[:-1], length - 1), dtype=bool)
    covered = _window(np.concatenate((pad, starts, pad), axis=-1), length, np.logical_or)
    return covered if axis == 1 else covered.T


def _text_ink(ink: np.ndarray, work_dpi: float) -> np.ndarray:
    """Ink without table rules, underlines and frames, which would swamp the text lines."""
    length = max(8, round(0.25 * work_dpi))  # no letter has a straight run that long
    rules = _long_runs(ink, length, axis=1) | _long_runs(ink, length, axis=0)
    text = ink & ~rules
    return text if text.sum() >= 0.2 * ink.sum() else ink


def _otsu(histogram: list[int]) -> tuple[int, float]:
    """Otsu threshold of a 256-bin histogram and the gap between the two class means."""
    h = np.asarray(histogram[:256], dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(h)
    m0 = np.cumsum(h * levels)
    total, mean_total = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_total * w0 / total - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0.0
    t = int(np.argmax(between))
    if w0[t] == 0 or w1[t] == 0:
        return t, 0.0
    dark = m0[t] / w0[t]
    light = (mean_total - m0[t]) / w1[t]
    return t, float(light - dark)


def _sheared_rows(rows: np.ndarray, cols: np.ndarray, angle: float) -> np.ndarray:
    """Row index of each ink point once the page is sheared by ``angle`` degrees (0-based)."""
    y = np.floor(rows + cols * math.tan(math.radians(angle))).astype(np.int64)
    return y - y.min()


def _energy(rows: np.ndarray, cols: np.ndarray, angle: float) -> float:
    """Sum of squared row counts: largest when text lines are level and sharp."""
    profile = np.bincount(_sheared_rows(rows, cols, angle)).astype(np.float64)
    return float(np.dot(profile, profile))


def _best_angle(rows: np.ndarray, cols: np.ndarray) -> tuple[float, float]:
    """Shear angle that makes text lines sharpest, and its (normalised) profile energy."""
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5)
    scores = [_energy(rows, cols, a) for a in coarse]
    a0 = float(coarse[int(np.argmax(scores))])
    fine = np.arange(a0 - 0.5, a0 + 0.5 + 1e-9, 0.1)
    scores = [_energy(rows, cols, a) for a in fine]
    i = int(np.argmax(scores))
    best, e = float(fine[i]), scores[i]
    if 0 < i < len(fine) - 1:  # parabola through the peak for sub-step precision
        left, right = scores[i - 1], scores[i + 1]
        denom = left - 2 * e + right
        if denom < 0:
            best += 0.1 * 0.5 * (left - right) / denom
    span = float(np.ptp(rows)) + 1.0
    return best, e * span / float(len(rows)) ** 2


def _updown(rows: np.ndarray, cols: np.ndarray, angle: float) -> float:
    """Evidence in -1..1 that horizontal text is upright (positive) rather than upside down."""
    y = _sheared_rows(rows, cols, angle)
    h = np.bincount(y).astype(np.float64)
    on = h > 0.12 * np.percentile(h, 95)
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    heights = ends - starts
    if not (heights >= 3).any():
        return 0.0
    typical = float(np.median(heights[heights >= 3]))
    line_of = np.searchsorted(starts, y, side="right") - 1
    inside = (line_of >= 0) & (y < ends[np.clip(line_of, 0, None)])
    votes: list[float] = []
    lefts: list[float] = []
    rights: list[float] = []
    for i, (s, e) in enumerate(zip(starts, ends)):
        if not 0.6 * typical <= e - s <= 1.6 * typical:
            continue  # merged lines, stamps, rules: no reliable shape
        seg = h[s:e]
        core = np.flatnonzero(seg >= 0.5 * seg.max())
        top, bottom = s + int(core[0]), s + int(core[-1])
        margin = max(2, round(0.6 * (bottom - top + 1)))
        # Skip the row next to the core: how a stroke straddles two rows of the
        # reduced copy is chance, not shape.  Stop at the neighbouring lines.
        ceiling = ends[i - 1] if i > 0 else 0
        floor_ = starts[i + 1] if i + 1 < len(starts) else len(h)
        above = h[max(ceiling, top - margin) : max(ceiling, top - 1)].sum()
        below = h[min(floor_, bottom + 2) : min(floor_, bottom + 1 + margin)].sum()
        if above + below > 0:
            votes.append(float((above - below) / (above + below)))
        xs = cols[inside & (line_of == i)]
        if xs.size > 20:
            lo, hi = np.percentile(xs, [0.5, 99.5])
            lefts.append(float(lo))
            rights.append(float(hi))
    shape = float(np.median(votes)) if votes else 0.0
    align = 0.0
    if len(lefts) >= 3:
        left, right = np.asarray(lefts), np.asarray(rights)
        mad_l = float(np.median(np.abs(left - np.median(left))))
        mad_r = float(np.median(np.abs(right - np.median(right))))
        # A line height in the denominator: sub-pixel jitter on justified text is no evidence.
        align = (mad_r - mad_l) / (mad_r + mad_l + typical)
    return 0.6 * shape + 0.4 * align


def analyse_page(image: Image.Image, dpi: int | None = None) -> PageGeometry:
    """Orientation and skew from ink projection profiles of a small copy (~20 ms per A4 page)."""
    small, work_dpi = _work_copy(image, dpi or _image_dpi(image))
    histogram = small.histogram()[:256]
    threshold, contrast = _otsu(histogram)
    pixels = np.asarray(small)
    ink = pixels < threshold
    count = int(ink.sum())
    if contrast < 40 or count < 200 or count > 0.4 * ink.size:
        return PageGeometry(0, 0.0, 0.0, 0.0)  # blank, photo or negative: nothing to read
    ys, xs = np.nonzero(_text_ink(ink, work_dpi))
    rows = ys.astype(np.float64) - pixels.shape[0] // 2
    cols = xs.astype(np.float64) - pixels.shape[1] // 2
    skew_h, energy_h = _best_angle(rows, cols)
    # Vertical text: the same analysis on the page turned a quarter clockwise.
    skew_v, energy_v = _best_angle(cols, -rows)
    vertical = energy_v > 1.15 * energy_h  # upright pages are the rule: favour them
    ratio = max(energy_h, energy_v) / max(min(energy_h, energy_v), 1e-9)
    if vertical:
        score = _updown(cols, -rows, skew_v)
        rotation = 90 if score > -0.1 else 270
    else:
        score = _updown(rows, cols, skew_h)
        rotation = 0 if score > -0.1 else 180
    confidence = min(1.0, max(0.0, (ratio - 1.0) / 0.4)) * min(1.0, abs(score) / 0.3)
    # Crop limit: halfway from the Otsu threshold to the paper, so that faint marks
    # thinned out by the reduction still count (cropping too little is harmless).
    cumulative = np.cumsum(histogram)
    paper = int(np.searchsorted(cumulative, 0.9 * cumulative[-1]))
    ink_level = (threshold + paper) // 2
    return PageGeometry(
        rotation, round(confidence, 3), round(skew_h, 2), round(skew_v, 2), ink_level
    )


def detect_orientation(image: Image.Image, *, dpi: int | None = None) -> tuple[int, float]:
    """Degrees (0/90/180/270) to turn the page clockwise to make it upright, and a 0..1 confidence.

    The cheap analysis decides; only when it is unsure does Tesseract OSD run on a
    ~150 dpi copy, because OSD costs as much as OCR'ing the page.
    """
    dpi = dpi or _image_dpi(image)
    geometry = analyse_page(image, dpi)
    if geometry.confidence >= UNSURE:
        return geometry.rotation, geometry.confidence
    osd = _osd(_gray(image), dpi, timeout_s=60, scratch=None)
    if osd is not None and osd[1] >= 1.0:
        return osd[0], min(1.0, osd[1] / 10.0)
    return geometry.rotation, geometry.confidence


def rotate_upright(image: Image.Image, rotation: int) -> Image.Image:
    """Turn the page ``rotation`` degrees clockwise (exact pixel transposition)."""
    ops = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if rotation % 360 == 0:
        return image
    if rotation not in ops:
        raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation}")
    return image.transpose(ops[rotation])


def straighten(image: Image.Image, skew: float) -> tuple[Image.Image, float]:
    """Undo a counter-clockwise tilt of ``skew`` degrees; returns image and angle applied."""
    if abs(skew) < MIN_SKEW or abs(skew) > MAX_SKEW:
        return image, 0.0
    bands = len(image.getbands())
    fill: int | tuple[int, ...] = 255 if bands == 1 else (255,) * bands
    applied = round(-skew, 2)
    return image.rotate(applied, resample=Image.Resampling.NEAREST, fillcolor=fill), applied


def deskew(image: Image.Image, *, dpi: int | None = None) -> tuple[Image.Image, float]:
    """Straighten a slightly tilted page; returns it and the counter-clockwise angle applied.

    A page scanned 2° counter-clockwise comes back with ``-2.0``.  Tilts under
    0.2° are left alone (not worth resampling the page).
    """
    geometry = analyse_page(image, dpi or _image_dpi(image))
    return straighten(image, geometry.skew_for(geometry.rotation))


# --- Tesseract ---------------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _call(fn, *args: object, languages: str = "", **kwargs: object) -> str:  # type: ignore[no-untyped-def]
    """Run a pytesseract function, mapping its errors onto archivo's (Spanish) ones."""
    pytesseract.pytesseract.tesseract_cmd = TESSERACT_CMD  # one setting, patchable in tests
    try:
        return fn(*args, **kwargs)
    except pytesseract.TesseractNotFoundError as exc:
        raise TesseractMissing(_INSTALL_HINT) from exc
    except pytesseract.TesseractError as exc:
        _raise_for(exc.status, str(exc.message), languages)
        raise  # pragma: no cover - _raise_for always raises
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():  # pytesseract kills tesseract and says so
            raise _Timeout() from exc
        raise


def _scratch_run(root: Scratch, kind: str) -> tempfile.TemporaryDirectory[str]:
    """A private folder for one Tesseract run (see ``ingest.scratch``)."""
    return scratch_space.run_dir(tempfile.gettempdir() if root is None else root, kind)


def _tesseract(path: str, extension: str, *, lang: str, config: str, timeout: float,
               languages: str = "") -> str:
    """Run Tesseract on ``path`` with its output beside it, and return that output.

    pytesseract's ``image_to_*`` would put the output in the system temporary
    folder (``tess_*``), where a killed worker leaves it; here it stays in the
    run's own private folder.
    """
    base = os.path.join(os.path.dirname(path), "salida")
    _call(pytesseract.pytesseract.run_tesseract, path, base, extension, lang, config=config,
          timeout=timeout, languages=languages)
    with open(f"{base}.{extension}", encoding="utf-8") as fh:
        return fh.read()


def _raise_for(status: int, err: str, languages: str) -> None:
    if "Failed loading language" in err or "Could not initialize tesseract" in err:
        try:
            installed = ", ".join(sorted(available_languages())) or "ninguno"
        except ArchivoError:
            installed = "desconocidos"
        raise TesseractMissing(
            f"Faltan los datos de idioma de Tesseract para «{languages}» (instalados: "
            f"{installed}): instale el paquete tesseract-ocr-<idioma>, p. ej. "
            "apt-get install tesseract-ocr-spa tesseract-ocr-eng"
        )
    if status < 0:  # killed by a signal, most likely out of memory
        raise TransientError(f"Tesseract terminó de forma anormal (señal {-status}).")
    detail = err.strip().splitlines()[-1] if err.strip() else f"código {status}"
    raise RejectedInput("ocr", f"Tesseract no pudo procesar la página: {detail}")


def _write_page(image: Image.Image, directory: str,
                box: tuple[int, int, int, int] | None = None) -> str:
    """Uncompressed TIFF: as cheap to write as PGM, and Tesseract reads it ~60 ms faster.

    Only ``box`` of the page is written, band by band, so no cropped copy of the
    page is ever made (up to 127 MB on a grey page at the pixel limit).
    """
    path = os.path.join(directory, "page.tif")
    if image.mode != "L":
        # Explicit: Pillow would otherwise reuse the source's compression (e.g. Group 4,
        # which fails on 8-bit pages) from ``image.info``.
        with open(scratch_space.open_private(path), "wb") as out:
            (image.crop(box) if box else image).save(out, format="TIFF", compression="raw")
        return path
    left, top, right, bottom = box or (0, 0, image.width, image.height)
    width, height = right - left, bottom - top
    with open(scratch_space.open_private(path), "wb") as fh:
        fh.write(_tiff_header(width, height))
        rows = max(1, 4_000_000 // width)
        for y in range(top, bottom, rows):
            band = image.crop((left, y, right, min(bottom, y + rows)))
            fh.write(band.tobytes())
            band.close()
    return path


_TIFF_TAGS = 9  # entries in the IFD written by _tiff_header


def _tiff_header(width: int, height: int) -> bytes:
    """Little-endian baseline TIFF header for one uncompressed 8-bit grey strip that follows."""
    data_offset = 8 + 2 + 12 * _TIFF_TAGS + 4
    short, long_ = 3, 4
    entries = [
        (256, long_, width), (257, long_, height), (258, short, 8),
        (259, short, 1),  # no compression
        (262, short, 1),  # black is zero
        (273, long_, data_offset), (277, short, 1), (278, long_, height),
        (279, long_, width * height),
    ]
    assert len(entries) == _TIFF_TAGS
    ifd = b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in entries)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", _TIFF_TAGS) + ifd + b"\0" * 4


def _osd(gray: Image.Image, dpi: int | None, *, timeout_s: float,
         scratch: Scratch) -> tuple[int, float] | None:
    """Tesseract OSD on a ~150 dpi copy: (clockwise rotation, confidence), or None if unsure."""
    factor = max(1, round(dpi / _OSD_DPI)) if dpi else 1
    small = gray.reduce(factor) if factor > 1 else gray
    osd_dpi = (dpi or 300) // factor
    with _scratch_run(scratch, "osd") as tmp:
        path = _write_page(small, tmp)
        try:
            out = _tesseract(path, "osd", lang="osd", config=f"--psm 0 --dpi {osd_dpi}",
                             timeout=timeout_s)
        except (_Timeout, RejectedInput, TransientError):
            return None  # typically "Too few characters"
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    try:
        return int(fields["Rotate"]) % 360, float(fields["Orientation confidence"])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Pass:
    text: str
    words: list[Word]
    mean_conf: float


def parse_tsv(tsv: str) -> tuple[str, list[Word]]:
    """Words and text from Tesseract TSV; lines keep its block/paragraph/line structure."""
    words: list[Word] = []
    paragraphs: list[list[list[str]]] = []
    last_par: tuple[int, int] | None = None
    last_line: tuple[int, int, int] | None = None
    line_no = -1
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t", 11)
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
        if (block, par) != last_par:
            paragraphs.append([])
            last_par = (block, par)
        if (block, par, line) != last_line:
            paragraphs[-1].append([])
            last_line = (block, par, line)
            line_no += 1
        paragraphs[-1][-1].append(text)
        left, top, width, height = (int(c) for c in cols[6:10])
        # one decimal is all Word.as_json keeps: round here so stored boxes round-trip exactly
        words.append(Word(text, left, top, width, height, round(float(cols[10]), 1), line_no))
    text = "\n\n".join("\n".join(" ".join(line) for line in par) for par in paragraphs)
    return text, words


def _mean_conf(words: list[Word]) -> float:
    confs = [w.conf for w in words if w.conf >= 0]
    return round(sum(confs) / len(confs), 2) if confs else 0.0


def _tesseract_pass(
    page: Image.Image, dpi: int, languages: str, timeout_s: int, ink_level: int | None = None,
    scratch: Scratch = None,
) -> _Pass:
    box = content_box(page, ink_level, dpi) if ink_level is not None else None
    with _scratch_run(scratch, "ocr") as tmp:
        path = _write_page(page, tmp, box)
        try:
            tsv = _tesseract(path, "tsv", lang=languages,
                             config=f"-c tessedit_create_tsv=1 --dpi {dpi}", timeout=timeout_s,
                             languages=languages)
        except _Timeout as exc:
            raise RejectedInput(
                "tiempo",
                f"El OCR de la página superó {timeout_s} s; la imagen puede estar dañada o "
                "ser demasiado grande: revísela o vuelva a escanearla a 300 dpi.",
            ) from exc
    text, words = parse_tsv(tsv)
    if box:
        words = _shift(words, box[0], box[1])
    return _Pass(text, words, _mean_conf(words))


def content_box(page: Image.Image, ink_level: int, dpi: int) -> tuple[int, int, int, int] | None:
    """Bounding box of everything darker than ``ink_level``, plus a 0.2 in margin.

    Tesseract spends ~0.3 s per A4 page at 300 dpi just scanning paper (a blank
    page costs 0.45 s against 0.15 s for a tiny one), so blank margins and the
    empty bottom half of a letter are cropped off before OCR.  None when
    cropping would save less than 15% of the area.
    """
    factor = max(1, round(dpi / _WORK_DPI))
    small = np.asarray(page.reduce(factor) if factor > 1 else page)
    ink = small < ink_level
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    margin = max(1, round(0.2 * dpi))
    box = (
        max(0, int(cols[0]) * factor - margin),
        max(0, int(rows[0]) * factor - margin),
        min(page.width, (int(cols[-1]) + 1) * factor + margin),
        min(page.height, (int(rows[-1]) + 1) * factor + margin),
    )
    area = (box[2] - box[0]) * (box[3] - box[1])
    return box if area < 0.85 * page.width * page.height else None


def _shift(words: list[Word], dx: int, dy: int) -> list[Word]:
    if not dx and not dy:
        return words
    return [Word(w.text, w.left + dx, w.top + dy, w.width, w.height, w.conf, w.line) for w in words]


def _correct(gray: Image.Image, geometry: PageGeometry, rotation: int) -> tuple[Image.Image, float]:
    """The page turned ``rotation`` degrees clockwise, then straightened.

    A page that needs both gets one resampling pass: turning first and then
    straightening would hold three full-size pages at once (450 MB of grey at
    the pixel limit).
    """
    skew = geometry.skew_for(rotation)
    if rotation % 360 == 0 or abs(skew) < MIN_SKEW or abs(skew) > MAX_SKEW:
        return straighten(rotate_upright(gray, rotation), skew)
    applied = round(-skew, 2)
    return _turn_and_tilt(gray, rotation, applied), applied


def _turn_and_tilt(image: Image.Image, rotation: int, angle: float) -> Image.Image:
    """``straighten(rotate_upright(image, rotation))`` as one affine transform.

    Pillow's affine matrix maps output coordinates to input ones: the tilt is
    Pillow's own ``rotate`` matrix about the centre of the turned page, followed
    by the quarter turn mapped back onto the input.
    """
    w, h = image.size
    out_w, out_h = (h, w) if rotation in (90, 270) else (w, h)
    rad = -math.radians(angle)
    a, b = round(math.cos(rad), 15), round(math.sin(rad), 15)
    d, e = -b, a
    cx, cy = out_w / 2.0, out_h / 2.0
    c = a * -cx + b * -cy + cx
    f = d * -cx + e * -cy + cy
    matrices = {  # (x, y) on the turned page -> (x, y) on the input
        90: (d, e, f, -a, -b, h - c),
        180: (-a, -b, w - c, -d, -e, h - f),
        270: (-d, -e, w - f, a, b, c),
    }
    bands = len(image.getbands())
    fill: int | tuple[int, ...] = 255 if bands == 1 else (255,) * bands
    return image.transform((out_w, out_h), Image.Transform.AFFINE, matrices[rotation],
                           resample=Image.Resampling.NEAREST, fillcolor=fill)


def _sideways(words: list[Word]) -> bool:
    """Words boxed taller than wide, taken together: Tesseract read a page lying on its side.

    Tesseract's layout analysis can read vertical text lines by itself, with good
    confidence, so a wrong quarter turn does not show in the confidence.  Summing
    the boxes of every word of two or more characters lets a one-line page tell
    too (one short word alone, "is" or "de", is about square either way).
    """
    shaped = [w for w in words if sum(ch.isalnum() for ch in w.text) >= 2]
    if sum(len(w.text) for w in shaped) < 6:
        return False
    return sum(w.height for w in shaped) > sum(w.width for w in shaped)


def _merit(ocr: _Pass) -> float:
    """Confident characters read: garbage split into more words does not score more."""
    score = sum(w.conf * sum(ch.isalnum() for ch in w.text) for w in ocr.words if w.conf > 0)
    return score * (0.1 if _sideways(ocr.words) else 1.0)


def _letters(ocr: _Pass) -> int:
    return sum(ch.isalnum() for w in ocr.words for ch in w.text)


def _suspect(ocr: _Pass) -> bool:
    """The pass looks like a wrongly turned page (a few characters of noise do not count)."""
    return _letters(ocr) >= 6 and (ocr.mean_conf < SUSPECT_CONF or _sideways(ocr.words))


def _other_turns(gray: Image.Image, dpi: int, rotation: int, first: _Pass,
                 timeout_s: int, scratch: Scratch = None) -> list[int]:
    """Rotations worth a second pass: OSD's opinion, or if it cannot tell, the likely mistake.

    Short text gets every rotation: OSD and the cheap analysis are both unreliable
    on a line or two, and a pass over so little text is cheap.  Otherwise the page
    as it came is always one of them when the first pass turned it: a weak answer
    must never turn an upright page without the OCR confirming it.
    """
    if _letters(first) < SHORT_TEXT:
        return [turn for turn in (0, 90, 180, 270) if turn != rotation]
    turns: list[int] = []
    osd = _osd(gray, dpi, timeout_s=min(timeout_s, 60), scratch=scratch)
    if osd is not None and osd[1] >= 0.5:
        turns.append(osd[0])
    elif _sideways(first.words):
        turns += [(rotation + 90) % 360, (rotation + 270) % 360]
    else:
        turns.append((rotation + 180) % 360)  # OSD gives up: a flip is the usual error
    turns.append(0)
    return list(dict.fromkeys(turn for turn in turns if turn != rotation))


def _better(candidate: _Pass, turn: int, best: _Pass, best_turn: int) -> bool:
    """Whether ``candidate`` beats ``best``; turning a page as it came must win clearly."""
    margin = AS_IS_MARGIN if best_turn == 0 else 1.0
    if turn == 0:
        return _merit(candidate) * AS_IS_MARGIN > _merit(best)
    return _merit(candidate) > _merit(best) * margin


def _release(page: Image.Image, gray: Image.Image) -> None:
    """Free a corrected copy at once (a 300 dpi A4 page is 8.7 MB); never the input itself."""
    if page is not gray:
        page.close()


def ocr_page(
    image: Image.Image, *, dpi: int, languages: str = "spa+eng", timeout_s: int = 300,
    scratch: Scratch = None,
) -> OcrResult:
    """Turn the page upright, straighten it and OCR it with a single Tesseract run.

    More runs happen only when the first looks wrong (low confidence, or words
    boxed sideways), when the orientation guess was unsure, or when there is
    little text (a line or two, where every guess is weak): other orientations,
    always including the page as it came, are OCR'd and the best pass is kept.
    The page image and Tesseract's output are written under ``scratch`` only.
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, not {dpi}")
    gray = _gray(image)
    geometry = analyse_page(gray, dpi)
    rotation = geometry.rotation
    page, skew = _correct(gray, geometry, rotation)
    best = _tesseract_pass(page, dpi, languages, timeout_s, geometry.ink_level, scratch)
    letters = _letters(best)
    # Short garbage can score well (an upside-down two-line page read at 71), so an
    # unsure guess or a short text is always checked once there is something to read.
    check = letters >= 6 and (geometry.confidence < UNSURE or letters < SHORT_TEXT
                              or _suspect(best))
    if check or (rotation != 0 and letters < 6):
        turns = _other_turns(gray, dpi, rotation, best, timeout_s, scratch) if check else [0]
        _release(page, gray)  # rebuilt below: never three full-size pages at once
        for turn in turns:
            other_page, _ = _correct(gray, geometry, turn)
            other = _tesseract_pass(other_page, dpi, languages, timeout_s, geometry.ink_level,
                                    scratch)
            _release(other_page, gray)
            if _better(other, turn, best, rotation):
                best, rotation = other, turn
                if letters >= SHORT_TEXT and not _suspect(best):
                    break  # plenty of text read well: no need to try the rest
        page, skew = _correct(gray, geometry, rotation)
    return OcrResult(best.text, best.words, best.mean_conf, rotation, skew, page)


# --- installation checks -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def tesseract_version() -> str:
    """Installed Tesseract version, e.g. ``"5.3.0"`` (recorded with each OCR'd page)."""
    return str(_call(pytesseract.get_tesseract_version))


@functools.lru_cache(maxsize=1)
def available_languages() -> frozenset[str]:
    """Language models Tesseract can load (``osd`` included when present)."""
    return frozenset(_call(pytesseract.get_languages, config=""))
