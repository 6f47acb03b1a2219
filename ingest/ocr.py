"""Page OCR: orientation, deskew and one Tesseract run per page.

Cost model (measured on this 2-core machine with the Debian ``tessdata_fast``
models, A4 pages from ``make_corpus.py``): plain ``tesseract page.png out -l
spa+eng`` costs only ~0.5-0.8 s of CPU per page, so every extra step is weighed
against that.  A full-size OSD run (``--psm 0``) costs 0.5-0.75 s, as much as the
OCR itself; on a 150 dpi copy it still costs ~0.45 s and at 100 dpi it becomes
unreliable (wrong or "too few characters" on a third of the pages).  Running
OSD on every page would therefore halve throughput.

Chosen strategy (see ``bench/ocr_speed.py`` for the end-to-end numbers):

1. A numpy analysis of a ~100 dpi box-reduced copy (~15-25 ms per A4 page)
   gives both the skew and the orientation.  Text lines make the row
   projection profile spiky; the profile's energy, maximised over ±6° of
   shear, gives the skew, and comparing the best row energy with the best
   column energy tells horizontal from vertical text.  Up versus down comes
   from two cues: Latin text has more ink above the x-height band (capitals,
   ascenders, accents) than below it (descenders), and most office documents
   are left-aligned, so line starts line up better than line ends.  On 240
   corpus pages in all four orientations (light, heavy and no degradation,
   200 and 300 dpi, grey and bilevel) it picked the right rotation every time
   and the skew within 0.16°.
2. Safety net: if the first OCR pass looks wrong (mean word confidence below
   ``SUSPECT_CONF``; upright corpus pages score 90-96, upside-down or sideways
   ones 43-56), Tesseract OSD runs on a ~150 dpi copy and, if it proposes a
   different rotation, the page is OCR'd again that way and the better of the
   two passes is kept.  Only doubtful pages pay for OSD.

The skew correction uses nearest-neighbour rotation: 23 ms instead of 96 ms
(bilinear) or 284 ms (bicubic) on a 300 dpi A4 page, with the same word recall
in Tesseract; the jaggies vanish when the web image is downscaled.

Tesseract reads an uncompressed TIFF written to a temporary file: encoding PNG
would cost ~0.3-0.6 s, piping the image through stdin is slower than a file,
and Leptonica parses PGM ~60 ms slower than TIFF or BMP.
"""

from __future__ import annotations

import functools
import os

# Tesseract's OpenMP threads fight each other when several pages are OCR'd in
# parallel on few cores: one thread per process is 2-4x faster overall here.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import math  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from archive.errors import ArchivoError  # noqa: E402
from ingest.errors import RejectedInput, TransientError  # noqa: E402
from ingest.types import Word  # noqa: E402

TESSERACT_CMD = "tesseract"
SUSPECT_CONF = 65.0  # mean word confidence below which the orientation is double-checked
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


def _work_copy(image: Image.Image, dpi: int | None) -> Image.Image:
    """A ~100 dpi grayscale copy; box reduction is the cheapest decent downscale."""
    if dpi:
        factor = max(1, round(dpi / _WORK_DPI))
    else:  # unknown resolution: assume an A4/letter page, long side ~11.7 in
        factor = max(1, round(max(image.size) / (11.7 * _WORK_DPI)))
    if image.mode in ("L", "RGB") and factor > 1:
        return _gray(image.reduce(factor))
    gray = _gray(image)
    return gray.reduce(factor) if factor > 1 else gray


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


def _row_profile(rows: np.ndarray, cols: np.ndarray, angle: float) -> np.ndarray:
    """Ink per row after shearing the points by ``angle`` degrees."""
    y = np.floor(rows + cols * math.tan(math.radians(angle))).astype(np.int64)
    y -= y.min()
    return np.bincount(y).astype(np.float64)


def _energy(rows: np.ndarray, cols: np.ndarray, angle: float) -> float:
    p = _row_profile(rows, cols, angle)
    return float(np.dot(p, p))


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
    y = np.floor(rows + cols * math.tan(math.radians(angle))).astype(np.int64)
    y -= y.min()
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
        above = h[max(0, top - margin) : top].sum()
        below = h[bottom + 1 : bottom + 1 + margin].sum()
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
        align = (mad_r - mad_l) / (mad_r + mad_l + 1e-9)
    return 0.4 * shape + 0.6 * align


def analyse_page(image: Image.Image, dpi: int | None = None) -> PageGeometry:
    """Orientation and skew from ink projection profiles of a small copy (~20 ms per A4 page)."""
    small = _work_copy(image, dpi or _image_dpi(image))
    threshold, contrast = _otsu(small.histogram())
    pixels = np.asarray(small)
    ink = pixels < threshold
    count = int(ink.sum())
    if contrast < 40 or count < 200 or count > 0.4 * ink.size:
        return PageGeometry(0, 0.0, 0.0, 0.0)  # blank, photo or negative: nothing to read
    ys, xs = np.nonzero(ink)
    rows = ys.astype(np.float64) - pixels.shape[0] // 2
    cols = xs.astype(np.float64) - pixels.shape[1] // 2
    skew_h, energy_h = _best_angle(rows, cols)
    # Vertical text: the same analysis on the page turned a quarter clockwise.
    skew_v, energy_v = _best_angle(cols, -rows)
    vertical = energy_v > 1.15 * energy_h  # upright pages are the rule: favour them
    ratio = max(energy_h, energy_v) / max(min(energy_h, energy_v), 1e-9)
    if vertical:
        score = _updown(cols, -rows, skew_v)
        rotation = 90 if score > -0.05 else 270
    else:
        score = _updown(rows, cols, skew_h)
        rotation = 0 if score > -0.05 else 180
    confidence = min(1.0, max(0.0, (ratio - 1.0) / 0.4)) * min(1.0, abs(score) / 0.3)
    return PageGeometry(rotation, round(confidence, 3), round(skew_h, 2), round(skew_v, 2))


def detect_orientation(image: Image.Image, *, dpi: int | None = None) -> tuple[int, float]:
    """Degrees (0/90/180/270) to turn the page clockwise to make it upright, and a 0..1 confidence.

    The cheap analysis decides; only when it is unsure does Tesseract OSD run on a
    ~150 dpi copy, because OSD costs as much as OCR'ing the page.
    """
    dpi = dpi or _image_dpi(image)
    geometry = analyse_page(image, dpi)
    if geometry.confidence >= 0.3:
        return geometry.rotation, geometry.confidence
    osd = _osd(_gray(image), dpi, timeout_s=60)
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
    """Undo a counter-clockwise tilt of ``skew`` degrees; returns the image and the angle applied."""
    if abs(skew) < MIN_SKEW or abs(skew) > MAX_SKEW:
        return image, 0.0
    fill: int | tuple[int, ...] = 255 if image.mode in ("L", "1") else (255,) * len(image.getbands())
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


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [TESSERACT_CMD, *args], capture_output=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError as exc:
        raise TesseractMissing(_INSTALL_HINT) from exc


def _check(proc: subprocess.CompletedProcess[bytes], languages: str) -> None:
    if proc.returncode == 0:
        return
    err = proc.stderr.decode("utf-8", "replace").strip()
    if "Failed loading language" in err or "Could not initialize tesseract" in err:
        raise TesseractMissing(
            f"Faltan los datos de idioma de Tesseract para «{languages}»: "
            "apt-get install tesseract-ocr-spa tesseract-ocr-eng"
        )
    if proc.returncode < 0:  # killed by a signal, most likely out of memory
        raise TransientError(f"Tesseract terminó de forma anormal (señal {-proc.returncode}).")
    detail = err.splitlines()[-1] if err else f"código {proc.returncode}"
    raise RejectedInput("ocr", f"Tesseract no pudo procesar la página: {detail}")


def _write_page(image: Image.Image, directory: str) -> str:
    """Uncompressed TIFF: as cheap to write as PGM, and Tesseract reads it ~60 ms faster per page."""
    path = os.path.join(directory, "page.tif")
    image.save(path, format="TIFF")
    return path


def _osd(gray: Image.Image, dpi: int | None, *, timeout_s: float) -> tuple[int, float] | None:
    """Tesseract OSD on a ~150 dpi copy: (clockwise rotation, confidence), or None if it can't tell."""
    factor = max(1, round(dpi / _OSD_DPI)) if dpi else 1
    small = gray.reduce(factor) if factor > 1 else gray
    osd_dpi = (dpi or 300) // factor
    with tempfile.TemporaryDirectory(prefix="archivo-osd-") as tmp:
        path = _write_page(small, tmp)
        try:
            proc = _run([path, "stdout", "--psm", "0", "--dpi", str(osd_dpi)], timeout_s)
        except subprocess.TimeoutExpired:
            return None
    if proc.returncode != 0:
        return None  # typically "Too few characters"
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
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


def _tesseract_pass(page: Image.Image, dpi: int, languages: str, timeout_s: int) -> _Pass:
    with tempfile.TemporaryDirectory(prefix="archivo-ocr-") as tmp:
        path = _write_page(page, tmp)
        try:
            proc = _run([path, "stdout", "-l", languages, "--dpi", str(dpi), "tsv"], timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise RejectedInput(
                "tiempo",
                f"El OCR de la página superó {timeout_s} s; la imagen puede estar dañada o "
                "ser demasiado grande: revísela o vuelva a escanearla a 300 dpi.",
            ) from exc
    _check(proc, languages)
    text, words = parse_tsv(proc.stdout.decode("utf-8", "replace"))
    return _Pass(text, words, _mean_conf(words))


def _correct(gray: Image.Image, geometry: PageGeometry, rotation: int) -> tuple[Image.Image, float]:
    return straighten(rotate_upright(gray, rotation), geometry.skew_for(rotation))


def ocr_page(
    image: Image.Image, *, dpi: int, languages: str = "spa+eng", timeout_s: int = 300
) -> OcrResult:
    """Turn the page upright, straighten it and OCR it with a single Tesseract run.

    A second run happens only when the first looks wrong (low confidence) and
    Tesseract's OSD suggests another orientation; the better pass is kept.
    """
    gray = _gray(image)
    geometry = analyse_page(gray, dpi)
    rotation = geometry.rotation
    page, skew = _correct(gray, geometry, rotation)
    best = _tesseract_pass(page, dpi, languages, timeout_s)
    if len(best.words) >= 3 and best.mean_conf < SUSPECT_CONF:
        osd = _osd(gray, dpi, timeout_s=min(timeout_s, 60))
        if osd is not None and osd[0] != rotation and osd[1] >= 0.5:
            other_page, other_skew = _correct(gray, geometry, osd[0])
            other = _tesseract_pass(other_page, dpi, languages, timeout_s)
            if other.mean_conf * len(other.words) > best.mean_conf * len(best.words):
                best, page, skew, rotation = other, other_page, other_skew, osd[0]
    return OcrResult(best.text, best.words, best.mean_conf, rotation, skew, page)


# --- installation checks -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def tesseract_version() -> str:
    """Installed Tesseract version, e.g. ``"5.3.0"`` (recorded with each OCR'd page)."""
    proc = _run(["--version"], 30)
    first = (proc.stdout or proc.stderr).decode("utf-8", "replace").splitlines()
    if proc.returncode != 0 or not first:
        raise TesseractMissing(_INSTALL_HINT)
    return first[0].split()[-1]


@functools.lru_cache(maxsize=1)
def available_languages() -> frozenset[str]:
    """Language models Tesseract can load (``osd`` included when present)."""
    proc = _run(["--list-langs"], 30)
    if proc.returncode != 0:
        raise TesseractMissing(_INSTALL_HINT)
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())
