"""Huge pages stay correct while the pipeline keeps fewer full-size copies (issue 14).

No memory figures are asserted here (``bench/rss.py --px 9000`` measures them);
these check that each memory-saving step gives the same pages and text.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import PIL
import pytest
from PIL import Image, ImageDraw, ImageFont

from archive.db import session_scope
from archive.models import Document
from archive.services import Services
from ingest import ocr, pillow_private
from ingest.accept import accept_stream
from ingest.pages import iter_pages
from ingest.process import process_document
from ingest.sniff import sniff

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _random_page(size: tuple[int, int] = (601, 433), mode: str = "L") -> Image.Image:
    rng = np.random.default_rng(7)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.mark.parametrize("rotation", [90, 180, 270])
@pytest.mark.parametrize("skew", [2.5, -3.1, 0.7])
def test_turn_and_tilt_in_one_pass_equals_two_steps(rotation: int, skew: float) -> None:
    page = _random_page()
    two_steps, applied = ocr.straighten(ocr.rotate_upright(page, rotation), skew)
    one_pass, applied_once = ocr._correct(page, ocr.PageGeometry(rotation, 1.0, skew, skew), rotation)
    assert applied_once == applied != 0.0
    assert one_pass.size == two_steps.size
    # The same pixels, but for a few exactly on a rounding edge (floating point order).
    differ = np.asarray(one_pass) != np.asarray(two_steps)
    assert differ.mean() < 1e-4


@pytest.mark.parametrize("box", [None, (13, 7, 588, 400)])
def test_tesseract_input_is_written_band_by_band(tmp_path: Path, box) -> None:  # type: ignore[no-untyped-def]
    page = _random_page()
    written = Image.open(ocr._write_page(page, str(tmp_path), box))
    expected = page.crop(box) if box else page
    assert written.mode == "L" and written.size == expected.size
    assert written.tobytes() == expected.tobytes()


def _colour_scan(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGB", size, (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 60, 40), fill=(200, 30, 30))
    draw.rectangle((70, 10, 120, 40), fill=(20, 20, 20))
    return image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_gray_pages_for_ocr_and_colour_for_everyone_else(tmp_path: Path, fmt: str) -> None:
    colour = _colour_scan((200, 300))
    path = tmp_path / f"color.{fmt.lower()}"
    colour.save(path, fmt, dpi=(200, 200), **({"quality": 95} if fmt == "JPEG" else {}))
    kind = sniff(path)
    [default] = list(iter_pages(path, kind))
    [gray] = list(iter_pages(path, kind, gray=True))
    assert default.image.mode == "RGB"
    assert gray.image.mode == "L" and gray.image.size == default.image.size == (200, 300)
    assert gray.dpi == default.dpi == 200
    # The grey the OCR used to compute from the colour page.  A JPEG gives its luma
    # straight away, which differs slightly only where colour edges ring.
    reference = np.asarray(default.image.convert("L"), dtype=np.int16)
    diff = np.abs(np.asarray(gray.image, dtype=np.int16) - reference)
    assert diff.mean() < 0.5 and diff.max() <= (20 if fmt == "JPEG" else 0)


def test_the_installed_pillow_takes_pixels_without_a_copy() -> None:
    """The tested path is the one that runs: a Pillow major outside the tested set
    falls back to copying (correct, but the memory figures would not hold)."""
    assert pillow_private.internals_usable(), PIL.__version__


@pytest.mark.parametrize("internals", [True, False])
def test_tiff_pages_taken_from_the_frame_do_not_share_pixels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internals: bool) -> None:
    """Pages are handed over without a copy; the next page must decode into new memory.
    The copying fallback (another Pillow) gives the same pages."""
    monkeypatch.setattr(pillow_private, "internals_usable", lambda: internals)
    path = tmp_path / "lote.tif"
    shades = [30, 120, 210]
    frames = [Image.new("L", (300, 200), shade) for shade in shades]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    for gray in (False, True):
        pages = list(iter_pages(path, sniff(path), gray=gray))  # all held at once
        assert [p.image.getpixel((5, 5)) for p in pages] == shades
        assert all(p.image.size == (300, 200) for p in pages)


def test_large_mostly_white_page_is_processed(services: Services, tmp_path: Path) -> None:
    """A 6000x6000 colour page goes through the whole pipeline and is read right."""
    page = Image.new("RGB", (6000, 6000), (252, 252, 250))
    draw, font = ImageDraw.Draw(page), ImageFont.truetype(str(FONT), 50)
    lines = ["PLANO DE RED DE DISTRIBUCIÓN", "NIS 4992383 Capiatá",
             "Subestación San Lorenzo, alimentador 12"]
    for n, line in enumerate(lines):
        draw.text((4200, 5300 + n * 90), line, font=font, fill=(10, 10, 10))
    draw.line((300, 300, 5700, 300), fill=(0, 0, 200), width=6)
    path = tmp_path / "plano.png"
    page.save(path, dpi=(300, 300))
    with path.open("rb") as fh:
        doc_id = accept_stream(services, fh, path.name, actor="prueba", enqueue=False).document_id
    process_document(services, doc_id)
    with session_scope(services.sessions) as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.error_code is None, doc.error_message
        [stored] = doc.pages
        text, rotation, width, height, dpi = (stored.text, stored.rotation, stored.width,
                                              stored.height, stored.dpi)
        image_key, thumb_key = stored.image_key, stored.thumb_key
    assert rotation == 0
    for word in ("DISTRIBUCIÓN", "4992383", "Capiatá", "Subestación", "alimentador"):
        assert word in text.split(), text
    assert (width, height, dpi) == (3000, 3000, 150)  # the web image: 300 dpi halved
    web = Image.open(io.BytesIO(services.store.get_bytes(image_key)))
    assert web.size == (3000, 3000) and web.mode == "L"
    thumb = Image.open(io.BytesIO(services.store.get_bytes(thumb_key)))
    assert thumb.width == 200


# --- colour PNGs decoded band by band -------------------------------------------------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(row: bytes, prior: bytes, kind: int, bpp: int) -> bytes:
    """One PNG scanline filtered with ``kind`` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth)."""
    out = bytearray([kind])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prior[i], prior[i - bpp] if i >= bpp else 0
        predictor = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out.append((x - predictor) % 256)
    return bytes(out)


def _png(image: Image.Image, *, idat_size: int = 97, exif_after: bytes | None = None,
         cut: int = 0) -> bytes:
    """A PNG written by hand: every filter type in turn, the data split over many IDAT chunks."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    bpp = len(image.mode)
    width, height = image.size
    raw, prior = bytearray(), bytes(width * bpp)
    for y in range(height):
        row = image.crop((0, y, width, y + 1)).tobytes()
        raw += _filtered(row, prior, y % 5, bpp)
        prior = row
    data = zlib.compress(bytes(raw), 6)
    if cut:
        data = data[: len(data) - cut]
    colour_type = 2 if image.mode == "RGB" else 6
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                               colour_type, 0, 0, 0))
    out += b"".join(chunk(b"IDAT", data[i : i + idat_size]) for i in range(0, len(data), idat_size))
    if exif_after is not None:
        out += chunk(b"eXIf", exif_after)
    return out + chunk(b"IEND", b"")


def _flat_gray(image: Image.Image) -> np.ndarray:
    if image.mode == "RGBA":
        white = Image.new("RGB", image.size, "white")
        white.paste(image, mask=image.getchannel("A"))
        image = white
    return np.asarray(image.convert("L"))


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("band_bytes", [1, 1000, 10**7])
def test_colour_png_decoded_in_bands_equals_pillow(tmp_path: Path, mode: str, band_bytes: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import banded_gray

    monkeypatch.setattr(banded_gray, "PNG_BAND_BYTES", band_bytes)
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, (37, 29, len(mode)), dtype=np.uint8), mode)
    path = tmp_path / "p.png"
    path.write_bytes(_png(image))
    with Image.open(path) as frame:  # the banded decoder takes it (no fallback to Pillow)
        assert banded_gray.png_gray(frame) is not None and frame._im is None
    [page] = list(iter_pages(path, sniff(path), gray=True))
    assert page.image.mode == "L" and page.image.size == (29, 37)
    assert np.array_equal(np.asarray(page.image), _flat_gray(Image.open(path)))
    assert np.array_equal(np.asarray(page.image), _flat_gray(image))


def test_colour_png_orientation_after_the_image_data_is_applied(tmp_path: Path) -> None:
    image = _colour_scan((200, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: shown a quarter turn clockwise
    path = tmp_path / "girada.png"
    path.write_bytes(_png(image, idat_size=5000, exif_after=exif.tobytes()[6:]))
    [page] = list(iter_pages(path, sniff(path), gray=True))
    assert page.image.size == (300, 200)
    expected = _flat_gray(image.transpose(Image.Transpose.ROTATE_270))
    assert np.array_equal(np.asarray(page.image), expected)


def test_truncated_colour_png_is_rejected_as_truncated(tmp_path: Path) -> None:
    from ingest.errors import RejectedInput

    path = tmp_path / "cortada.png"
    path.write_bytes(_png(_random_page((60, 80), "RGB"), cut=40))
    with pytest.raises(RejectedInput) as err:
        list(iter_pages(path, sniff(path), gray=True))
    assert err.value.code == "truncado"


@pytest.mark.parametrize("compression, extra", [
    ("tiff_deflate", {}),
    ("tiff_lzw", {}),
    ("tiff_lzw", {"tiffinfo": {317: 2}}),  # horizontal predictor
    ("packbits", {}),
    ("raw", {}),  # one uncompressed strip: sliced into bands
])
def test_colour_tiff_decoded_in_bands_equals_pillow(tmp_path: Path, compression: str, extra: dict,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import banded_gray

    monkeypatch.setattr(banded_gray, "PNG_BAND_BYTES", 3000)  # a few strips a band
    image = _random_page((400, 300), "RGB")
    path = tmp_path / "color.tif"
    image.save(path, compression=compression, dpi=(200, 200), **extra)
    pillow = Image.open(path)
    assert len(pillow.tag_v2[273]) > 1 or compression == "raw"
    with Image.open(path) as frame:  # the banded decoder takes it (no fallback to Pillow)
        banded = banded_gray.tiff_gray(frame)
        assert banded is not None and frame._im is None
    [page] = list(iter_pages(path, sniff(path), gray=True))
    assert page.image.mode == "L" and page.image.size == (400, 300) and page.dpi == 200
    assert np.array_equal(np.asarray(page.image), np.asarray(pillow.convert("L")))


def test_multipage_colour_tiff_in_bands_keeps_each_page(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import banded_gray

    monkeypatch.setattr(banded_gray, "PNG_BAND_BYTES", 3000)
    colours = [(200, 0, 0), (0, 120, 0), (10, 10, 240)]
    frames = [Image.new("RGB", (120, 90), colour) for colour in colours]
    path = tmp_path / "lote.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    pages_ = list(iter_pages(path, sniff(path), gray=True))
    assert [p.image.getpixel((60, 45)) for p in pages_] == [
        Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0)) for c in colours]


def test_a_page_that_cannot_be_banded_is_bounded_by_its_whole_decoding(tmp_path: Path) -> None:
    """Formats decoded whole (CMYK or JPEG-compressed TIFF, 16-bit PNG, ...) are refused
    past the memory budget with what to do; grey pages and banded colour pages pass."""
    from ingest.errors import RejectedInput
    from ingest.limits import Limits

    small = Limits(max_whole_decode_bytes=1024 * 1024)  # 1 MB: a 600x600 CMYK page is 1.4 MB
    cmyk = tmp_path / "cmyk.tif"
    Image.new("CMYK", (600, 600), (0, 0, 0, 0)).save(cmyk, dpi=(300, 300))
    with pytest.raises(RejectedInput) as refused:
        list(iter_pages(cmyk, sniff(cmyk), small, gray=True))
    assert refused.value.code == "demasiado_grande"
    assert "600x600" in str(refused.value) and "300 ppp" in str(refused.value)

    grey = tmp_path / "gris.tif"
    Image.new("L", (600, 600), 255).save(grey, dpi=(300, 300))  # 0.36 MB whole
    assert len(list(iter_pages(grey, sniff(grey), small, gray=True))) == 1
    banded = tmp_path / "color.png"
    Image.new("RGB", (600, 600), (250, 250, 250)).save(banded, dpi=(300, 300))
    assert len(list(iter_pages(banded, sniff(banded), small, gray=True))) == 1  # in bands
