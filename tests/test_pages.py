"""Sniffing, page counting and page streaming on files generated here, good and hostile."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ingest.errors import RejectedInput
from ingest.limits import Limits
from ingest.pages import SourcePage, count_pages, iter_pages, paper_dpi
from ingest.sniff import sniff

# --- helpers -------------------------------------------------------------------


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def save(tmp_path: Path, name: str, image: Image.Image, fmt: str, **params: object) -> Path:
    path = tmp_path / name
    image.save(path, fmt, **params)
    return path


def ingest(path: Path, limits: Limits = Limits()) -> list[SourcePage]:
    kind = sniff(path, limits)
    pages = list(iter_pages(path, kind, limits))
    assert len(pages) == count_pages(path, kind, limits)
    return pages


def rejected(path: Path, limits: Limits = Limits()) -> RejectedInput:
    with pytest.raises(RejectedInput) as info:
        ingest(path, limits)
    assert str(info.value)  # a message for the archivist, never empty
    return info.value


def page_image(mode: str = "L", size: tuple[int, int] = (200, 300)) -> Image.Image:
    """A white page with a black square in the top-left corner and a line of 'text'."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 49, 49), fill=0)
    draw.line((20, size[1] // 2, size[0] - 20, size[1] // 2), fill=0, width=3)
    return image.convert(mode)


def pdf_bytes(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A classic PDF with a correct xref table; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def page_tree(count: int, kids: int = 1, media_box: bytes = b"[0 0 200 300]") -> list[bytes]:
    refs = b" ".join(b"%d 0 R" % (3 + i) for i in range(kids))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, count)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox %s >>" % media_box] * kids
    return objects


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes, owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF with a black square, encrypted with the RC4 40-bit standard handler (R2)."""
    file_id = hashlib.md5(b"archivo-test").digest()
    permissions = -4
    owner = _rc4(hashlib.md5((owner_password + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    key = hashlib.md5(
        (user_password + _PAD)[:32] + owner + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    user = _rc4(key, _PAD)
    content_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
    content = _rc4(content_key, b"0 g 20 20 100 100 re f")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner.hex().encode(), user.hex().encode(), permissions),
    ]
    trailer = b"/Encrypt 5 0 R /ID [<%s> <%s>]" % (file_id.hex().encode(), file_id.hex().encode())
    return pdf_bytes(objects, trailer)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiff_bytes(frames: list[tuple[int, int]]) -> bytes:
    """Little-endian 8-bit grey TIFF; each frame's single strip holds min(w*h, 64 KiB) bytes."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    previous_link = 4
    for width, height in frames:
        strip = bytes([200]) * min(width * height, 65536)
        strip_at = len(out)
        out += strip
        if len(out) % 2:
            out += b"\x00"
        ifd_at = len(out)
        struct.pack_into("<I", out, previous_link, ifd_at)
        tags = [
            (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, strip_at), (277, 3, 1), (278, 4, height), (279, 4, len(strip)),
        ]
        out += struct.pack("<H", len(tags))
        for tag, typ, value in tags:
            out += struct.pack("<HHI", tag, typ, 1) + (
                struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
            )
        previous_link = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def dark(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return int(np.asarray(image.convert("L").crop(box)).min()) < 128


# --- sniff -----------------------------------------------------------------------


def test_zero_bytes_is_vacio(tmp_path: Path) -> None:
    error = rejected(write(tmp_path, "scan.pdf", b""))
    assert error.code == "vacio"
    assert "vacío" in str(error)


def test_html_named_pdf_is_tipo(tmp_path: Path) -> None:
    html = b"<!DOCTYPE html><html><head><title>Login</title></head><body>Sesion</body></html>"
    error = rejected(write(tmp_path, "factura.pdf", html))
    assert error.code == "tipo"
    assert "no es un PDF, TIFF, JPEG ni PNG" in str(error) and "HTML" in str(error)


def test_type_comes_from_bytes_not_name(tmp_path: Path) -> None:
    path = save(tmp_path, "documento.pdf", page_image(), "PNG")
    assert sniff(path).kind == "png"
    gif = save(tmp_path, "scan.tif", page_image(), "GIF")
    assert rejected(gif).code == "tipo"


def test_size_over_limit_is_tamano(tmp_path: Path) -> None:
    path = save(tmp_path, "a.png", page_image(), "PNG")
    error = rejected(path, Limits(max_bytes=100))
    assert error.code == "tamano"


def test_jpeg_after_junk_is_found_and_decoded(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    page_image("RGB").save(buffer, "JPEG")
    junk = b"\x00\x01garbage-from-a-scanner" * 4
    path = write(tmp_path, "junk.jpg", junk + buffer.getvalue())
    kind = sniff(path)
    assert (kind.kind, kind.offset) == ("jpeg", len(junk))
    [page] = ingest(path)
    assert page.image.size == (200, 300)
    assert dark(page.image, (15, 15, 45, 45))


# --- TIFF ---------------------------------------------------------------------------


def test_multipage_group4_tiff(tmp_path: Path) -> None:
    frames = [page_image("1") for _ in range(3)]
    path = tmp_path / "fax.tif"
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], compression="group4", dpi=(200, 200))
    pages = ingest(path)
    assert [p.number for p in pages] == [1, 2, 3]
    for page in pages:
        assert page.image.mode == "L" and page.image.size == (200, 300) and page.dpi == 200
        assert set(np.unique(np.asarray(page.image)).tolist()) == {0, 255}
        assert page.text_layer is None and page.words is None


def test_bigtiff(tmp_path: Path) -> None:
    path = save(tmp_path, "big.tif", page_image(), "TIFF", big_tiff=True, dpi=(300, 300))
    assert path.read_bytes()[:4] == b"II+\x00"
    assert sniff(path).kind == "tiff"
    [page] = ingest(path)
    assert page.image.size == (200, 300) and page.dpi == 300


def test_16bit_tiff_is_scaled_to_8bit(tmp_path: Path) -> None:
    data = np.zeros((300, 200), dtype=np.uint16)
    data[:, 100:] = 65535
    data[:10, :10] = 32768
    path = save(tmp_path, "deep.tif", Image.fromarray(data), "TIFF")
    [page] = ingest(path)
    assert page.image.mode == "L"
    pixels = np.asarray(page.image)
    assert pixels[0, 0] == 128 and pixels[0, 150] == 255 and pixels[200, 50] == 0


def test_cmyk_tiff_becomes_rgb(tmp_path: Path) -> None:
    image = Image.new("CMYK", (200, 300), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (10, 10, 50, 50))
    path = save(tmp_path, "cmyk.tif", image, "TIFF", compression="tiff_lzw")
    [page] = ingest(path)
    assert page.image.mode == "RGB"
    assert page.image.getpixel((100, 200)) == (255, 255, 255)
    assert page.image.getpixel((20, 20)) == (0, 0, 0)


def test_tiff_orientation_tag_is_applied(tmp_path: Path) -> None:
    stored = page_image("1")  # black square top-left of the stored grid
    path = save(tmp_path, "rot.tif", stored, "TIFF", compression="group4", tiffinfo={274: 6})
    [page] = ingest(path)
    assert page.image.size == (300, 200)  # quarter turn
    assert dark(page.image, (255, 15, 285, 45))  # stored top-left is shown top-right


def test_tiff_frame_bomb_is_found_without_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.tif", tiff_bytes([(200, 300), (100_000, 100_000)]))
    with pytest.raises(RejectedInput) as info:
        count_pages(path, sniff(path))
    assert info.value.code == "bomba"
    assert "La página 2 declara 100000x100000 píxeles" in str(info.value)


def test_tiff_with_too_many_frames_is_paginas(tmp_path: Path) -> None:
    path = write(tmp_path, "many.tif", tiff_bytes([(20, 30)] * 5))
    assert count_pages(path, "tiff") == 5
    assert rejected(path, Limits(max_pages=4)).code == "paginas"


def test_long_tiff_is_streamed_one_page_at_a_time(tmp_path: Path) -> None:
    """60 A4 pages at 300 dpi are ~520 MB decoded; streaming must stay far below that."""
    frame = Image.new("1", (2480, 3508), 1)
    ImageDraw.Draw(frame).rectangle((100, 100, 400, 400), fill=0)
    path = tmp_path / "long.tif"
    frame.save(path, "TIFF", save_all=True, append_images=[frame] * 59, compression="group4", dpi=(300, 300))

    def rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

    start, peak, seen = rss(), 0, 0
    for page in iter_pages(path, sniff(path)):
        seen += 1
        assert page.image.size == (2480, 3508)
        peak = max(peak, rss())
        del page
    assert seen == 60
    assert peak - start < 150 * 1024 * 1024


def test_fax_pixels_are_made_square(tmp_path: Path) -> None:
    path = save(tmp_path, "fax.tif", page_image("1", (204, 150)), "TIFF", compression="group4", dpi=(204, 98))
    [page] = ingest(path)
    assert page.dpi == 204
    assert page.image.size == (204, round(150 * 204 / 98))


# --- JPEG / PNG -------------------------------------------------------------------------


def test_jpeg_exif_orientation_6_comes_out_upright(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = save(tmp_path, "phone.jpg", page_image("RGB"), "JPEG", exif=exif, quality=95)
    [page] = ingest(path)
    assert page.image.mode == "RGB"
    assert page.image.size == (300, 200)
    assert dark(page.image, (255, 15, 285, 45))


def test_jpeg_exif_zero_resolution_does_not_crash(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x011A] = 0.0  # XResolution
    exif[0x011B] = 0.0  # YResolution
    exif[0x0128] = 2  # inches
    path = save(tmp_path, "zero.jpg", page_image("RGB"), "JPEG", exif=exif)
    [page] = ingest(path)
    assert page.dpi == 200  # nothing usable: the fallback


def test_bogus_dpi_is_estimated_from_a4_shape(tmp_path: Path) -> None:
    path = save(tmp_path, "a4.png", page_image("L", (827, 1169)), "PNG", dpi=(1, 1))
    [page] = ingest(path)
    assert page.dpi == 100
    assert paper_dpi(2480, 3508) == 300 and paper_dpi(200, 200) is None


def test_png_with_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (200, 300), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (10, 10, 50, 50))
    path = save(tmp_path, "alpha.png", image, "PNG")
    [page] = ingest(path)
    assert page.image.mode == "RGB"
    assert page.image.getpixel((100, 200)) == (255, 255, 255)
    assert page.image.getpixel((20, 20)) == (0, 0, 255)


def test_grey_palette_png_becomes_l(tmp_path: Path) -> None:
    path = save(tmp_path, "pal.png", page_image("L").convert("P"), "PNG")
    [page] = ingest(path)
    assert page.image.mode == "L" and page.image.size == (200, 300)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_truncado(tmp_path: Path, fmt: str) -> None:
    buffer = io.BytesIO()
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 200), dtype=np.uint8))
    noise.save(buffer, fmt)
    data = buffer.getvalue()
    path = write(tmp_path, f"cut.{fmt.lower()}", data[: len(data) // 2])
    error = rejected(path)
    assert error.code == "truncado"
    assert "incompleto" in str(error)


def test_png_bomb_header_is_rejected_before_decoding(tmp_path: Path) -> None:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    data += png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + png_chunk(b"IEND", b"")
    path = write(tmp_path, "bomb.png", data)
    error = rejected(path)
    assert error.code == "bomba"
    assert "10.000.000.000" in str(error)
    assert Image.MAX_IMAGE_PIXELS != 0  # our temporary setting was restored


def test_pillow_bomb_warning_is_an_error(tmp_path: Path) -> None:
    """60 000 px against a 50 000 px limit: Pillow only warns at open; we must reject."""
    path = save(tmp_path, "a.png", page_image(), "PNG")
    error = rejected(path, Limits(max_page_pixels=50_000))
    assert error.code == "bomba" and "60.000" in str(error)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_random_bytes_behind_a_tiff_header_are_rejected(tmp_path: Path) -> None:
    noise = np.random.default_rng(7).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    path = write(tmp_path, "noise.tif", b"II*\x00\x08\x00\x00\x00" + noise)
    assert rejected(path).code in {"danado", "truncado", "bomba"}


# --- PDF ---------------------------------------------------------------------------------


def test_image_only_pdf_is_rendered_grey_at_render_dpi(tmp_path: Path) -> None:
    path = save(tmp_path, "scan.pdf", page_image("L"), "PDF", resolution=100.0)
    [page] = ingest(path)
    assert page.image.mode == "L"
    assert page.dpi == 300
    assert near(page.image.size, (600, 900))  # 2 x 3 inches at 300 dpi
    assert page.text_layer is None and page.words is None
    assert dark(page.image, (45, 45, 135, 135))


def near(size: tuple[int, int], expected: tuple[int, int]) -> bool:
    """pdfium rounds the rendered size up: allow one pixel more."""
    return all(0 <= got - want <= 1 for got, want in zip(size, expected))


def born_digital_pdf(path: Path, rotate: int = 0) -> None:
    """A4 text page; with ``rotate`` reportlab stores a landscape MediaBox plus /Rotate."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setPageRotation(rotate)
    pdf.setFont("Helvetica", 14)
    lines = ["ADMINISTRACION NACIONAL DE ELECTRICIDAD", "Factura de consumo NIS 1234567", "Total a pagar: 150.000 Gs"]
    for number, line in enumerate(lines):
        pdf.drawString(72, 500 - 24 * number, line)
    pdf.showPage()
    pdf.save()


@pytest.mark.parametrize("rotate", [0, 90])
def test_born_digital_pdf_has_text_layer_and_word_boxes(tmp_path: Path, rotate: int) -> None:
    path = tmp_path / "factura.pdf"
    born_digital_pdf(path, rotate)
    [page] = ingest(path)
    assert page.dpi == 150
    assert page.image.mode == "RGB"
    assert near(page.image.size, (1240, 1754))  # shown upright, as a viewer would
    assert page.text_layer is not None and "NIS 1234567" in page.text_layer
    assert page.words is not None
    texts = [w.text for w in page.words]
    assert {"ADMINISTRACION", "NACIONAL", "1234567", "150.000", "Gs"} <= set(texts)
    if rotate == 0:
        assert texts[:3] == ["ADMINISTRACION", "NACIONAL", "DE"]
        first = page.words[0]
        assert abs(first.left - 150) <= 3  # x = 72 pt at 150 dpi
        assert abs(first.top + first.height - (842 - 500) * 150 / 72) <= 12  # baseline y = 500 pt
    width, height = page.image.size
    for word in page.words:
        assert word.conf == 100
        assert 0 <= word.left and word.left + word.width <= width
        assert 0 <= word.top and word.top + word.height <= height
        box = (word.left, word.top, word.left + word.width, word.top + word.height)
        assert dark(page.image, box), word  # the glyphs are where the box says
        assert min(word.width, word.height) <= 45, word  # one 14 pt line, not a whole block
    first_words = [w.line for w in page.words if w.text in ("ADMINISTRACION", "Factura", "Total")]
    assert len(set(first_words)) == 3  # one line each
    if rotate == 0:
        assert first_words == [0, 1, 2]


def test_short_text_is_not_a_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "sello.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(200, 300))
    pdf.drawString(20, 150, "Recibido")
    pdf.save()
    [page] = ingest(path)
    assert page.text_layer is None and page.words is None and page.dpi == 300


def test_pdf_with_user_password_is_cifrado(tmp_path: Path) -> None:
    path = write(tmp_path, "secreto.pdf", encrypted_pdf(b"clave"))
    error = rejected(path)
    assert error.code == "cifrado"
    assert "contraseña" in str(error) and "quite la protección" in str(error)


def test_pdf_with_empty_user_password_is_ingested(tmp_path: Path) -> None:
    path = write(tmp_path, "solo-permisos.pdf", encrypted_pdf(b""))
    [page] = ingest(path)
    assert page.image.size == (834, 1250)
    # the decrypted square (20..120 pt from the bottom-left) is drawn
    assert dark(page.image, (100, 800, 480, 1160))


def test_pdf_claiming_213_million_pages_is_paginas(tmp_path: Path) -> None:
    path = write(tmp_path, "mentira.pdf", pdf_bytes(page_tree(213_804_087)))
    assert len(pdfium.PdfDocument(str(path))) == 1  # pdfium ignores the absurd /Count
    error = rejected(path)
    assert error.code == "paginas"
    assert "213.804.087" in str(error)


def test_pdf_whose_count_pdfium_trusts_is_paginas(tmp_path: Path) -> None:
    path = write(tmp_path, "millon.pdf", pdf_bytes(page_tree(1_000_000)))
    assert len(pdfium.PdfDocument(str(path))) == 1_000_000
    assert rejected(path).code == "paginas"


def test_pdf_over_page_limit_is_paginas(tmp_path: Path) -> None:
    path = write(tmp_path, "cinco.pdf", pdf_bytes(page_tree(5, kids=5)))
    assert count_pages(path, "pdf") == 5
    error = rejected(path, Limits(max_pages=4))
    assert error.code == "paginas" and "5 páginas" in str(error)


def test_pdf_page_tree_announcing_missing_pages_is_danado(tmp_path: Path) -> None:
    path = write(tmp_path, "faltan.pdf", pdf_bytes(page_tree(3, kids=1)))
    assert rejected(path).code == "danado"


def test_truncated_pdf_is_truncado(tmp_path: Path) -> None:
    source = tmp_path / "full.pdf"
    born_digital_pdf(source)
    data = source.read_bytes()
    error = rejected(write(tmp_path, "cut.pdf", data[: len(data) * 2 // 3]))
    assert error.code == "truncado"


def test_garbage_pdf_is_danado(tmp_path: Path) -> None:
    path = write(tmp_path, "basura.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    assert rejected(path).code == "danado"


def test_giant_pdf_page_is_bomba_and_large_page_renders_lower(tmp_path: Path) -> None:
    giant = write(tmp_path, "giant.pdf", pdf_bytes(page_tree(1, media_box=b"[0 0 595 2147483647]")))
    assert rejected(giant).code == "bomba"
    plan = write(tmp_path, "plano.pdf", pdf_bytes(page_tree(1, media_box=b"[0 0 3600 1800]")))
    [page] = ingest(plan, Limits(max_page_pixels=5_000_000))
    assert 50 <= page.dpi < 300
    assert page.image.size[0] * page.image.size[1] <= 5_000_000


def test_pdf_embedding_a_huge_image_is_bomba(tmp_path: Path) -> None:
    side = 3000
    data = zlib.compress(b"\x00" * side * side, 9)
    content = b"q 200 0 0 300 0 0 cm /Im0 Do Q"
    objects = page_tree(1, media_box=b"[0 0 200 300] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R")
    objects += [
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(data))
        + data + b"\nendstream",
    ]
    path = write(tmp_path, "bomba.pdf", pdf_bytes(objects))
    assert count_pages(path, "pdf") == 1  # found only when the page is parsed
    error = rejected(path, Limits(max_page_pixels=1_000_000))
    assert error.code == "bomba" and "3000x3000" in str(error)
    [page] = ingest(path)  # within the default limit it renders
    assert page.image.mode == "L"


def test_stopping_early_releases_the_document(tmp_path: Path) -> None:
    path = write(tmp_path, "cinco.pdf", pdf_bytes(page_tree(5, kids=5)))
    stream = iter_pages(path, "pdf")
    first = next(stream)
    assert first.number == 1
    stream.close()  # must not raise; the pdfium document is closed in ``finally``
