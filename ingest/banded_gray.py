"""Colour pages decoded to grey a band of rows at a time, for OCR callers.

Pillow decodes a whole colour page at 4 bytes a pixel (324 MB at 9000x9000)
before it can be turned grey; OCR needs one byte a pixel. For the two common
colour layouts of desk scanners (8-bit RGB/RGBA PNG, RGB TIFF in strips) the
compressed data is fed to Pillow's own decoders a band at a time and each band
is pasted grey into the page, so the colour page never exists whole. Anything
else returns None and is decoded whole by ``ingest.pages`` as before. Input is
hostile: every length is checked against the file, and the errors raised are
the ones Pillow raises for the same damage, so ``ingest.pages``'s guard maps
them to the same Spanish messages. Figures: ``docs/benchmarks.md`` (huge pages).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from typing import IO

from PIL import Image, ImageFile

PNG_BAND_BYTES = 8 * 1024 * 1024  # filtered data inflated (or strips read) per band


def png_gray(frame: ImageFile.ImageFile) -> tuple[Image.Image, int] | None:
    """A colour PNG decoded band by band into grey, and its EXIF orientation.

    Pillow would hold the whole colour page (4 bytes a pixel, 324 MB at
    9000x9000) plus its grey copy.  Here the zlib stream is inflated a band of
    rows at a time; each band, behind the last row of the band before it (PNG
    filters refer to the row above), is unfiltered by Pillow's own PNG decoder,
    flattened onto white if it has alpha, turned grey and pasted into the page.
    None for what this does not cover (interlaced, 16-bit, palette, grey PNGs),
    which Pillow decodes whole as before.
    """
    if frame.format != "PNG" or frame.info.get("interlace") or len(frame.tile) != 1:
        return None
    tile = frame.tile[0]
    if tile.codec_name != "zip" or tile.args not in ("RGB", "RGBA") or frame.mode != tile.args:
        return None
    mode, (width, height) = frame.mode, frame.size
    stride = 1 + len(mode) * width
    rows = max(1, PNG_BAND_BYTES // stride)
    page = Image.new("L", (width, height), 255)
    previous = bytes(stride)  # "row -1": zeros, filter None, as the PNG filters assume
    inflater = zlib.decompressobj()
    pending = bytearray()
    fp = frame.fp
    assert fp is not None
    fp.seek(tile.offset - 8)  # the first IDAT chunk's header
    compressed, chunk = b"", b"IDAT"
    top = 0
    while top < height:
        want = min(rows, height - top) * stride
        while len(pending) < want:
            if not compressed:
                if chunk != b"IDAT" or inflater.eof:
                    raise EOFError("image file is truncated (PNG data ends before the last row)")
                compressed, chunk = _png_chunk(fp)
                continue
            pending += inflater.decompress(compressed, want - len(pending))
            compressed = inflater.unconsumed_tail
        count = want // stride
        band = Image.frombytes(mode, (width, count + 1), zlib.compress(
            previous + bytes(pending[:want]), 0), "zip", mode)
        del pending[:want]
        previous = b"\0" + band.crop((0, count, width, count + 1)).tobytes()
        colour = band.crop((0, 1, width, count + 1))
        band.close()
        flat = flatten_onto_white(colour) if mode == "RGBA" else colour
        page.paste(flat.convert("L"), (0, top))
        top += count
    return page, _png_trailer(frame, fp)


_TIFF_STRIP_CODECS = {1, 5, 8, 32773, 32946}  # none, LZW, deflate, PackBits, old deflate


def tiff_gray(frame: ImageFile.ImageFile) -> tuple[Image.Image, int] | None:
    """A colour TIFF page in strips decoded to grey a band of strips at a time.

    libtiff would decode the whole colour page (4 bytes a pixel in Pillow).  Each
    band is copied, still compressed, into a small TIFF of its own with the same
    compression and predictor, which Pillow decodes; the band is turned grey and
    pasted into the page.  None for what this does not cover (tiled, planar,
    JPEG-compressed, not 8-bit RGB, a single strip), which is decoded whole.
    """
    tags = getattr(frame, "tag_v2", None)
    if frame.format != "TIFF" or frame.mode != "RGB" or tags is None:
        return None
    width, height = frame.size
    offsets, counts = tags.get(273), tags.get(279)
    if (tags.get(259, 1) == 1 and isinstance(offsets, tuple) and len(offsets) == 1
            and isinstance(counts, tuple) and counts[0] >= 3 * width * height):
        # One uncompressed strip: any band of rows is a slice of it.
        per_row = max(1, PNG_BAND_BYTES // (3 * width))
        offsets = tuple(offsets[0] + 3 * width * y for y in range(0, height, per_row))
        counts = tuple(3 * width * min(per_row, height - y) for y in range(0, height, per_row))
        tags = {**dict(tags), 278: per_row, 273: offsets, 279: counts}
    if (tags.get(262) != 2 or tags.get(277) != 3 or tags.get(284, 1) != 1 or 322 in tags
            or tags.get(259, 1) not in _TIFF_STRIP_CODECS or tuple(tags.get(258, ())) != (8, 8, 8)
            or not isinstance(offsets, tuple) or not isinstance(counts, tuple)
            or len(offsets) != len(counts) or len(offsets) < 2):
        return None
    per_strip = min(int(tags.get(278, height)), height)
    if per_strip < 1 or math.ceil(height / per_strip) != len(offsets):
        return None
    orientation = exif_orientation(frame)
    strips_per_band = max(1, PNG_BAND_BYTES // (3 * width * per_strip))
    fields = {259: tags.get(259, 1), 317: tags.get(317, 1)}
    page = Image.new("L", (width, height), 255)
    fp = frame.fp
    assert fp is not None
    for first in range(0, len(offsets), strips_per_band):
        chunk = range(first, min(len(offsets), first + strips_per_band))
        data = []
        for i in chunk:
            fp.seek(int(offsets[i]))
            data.append(fp.read(int(counts[i])))
            if len(data[-1]) < int(counts[i]):
                raise EOFError("image file is truncated (TIFF strip)")
        top = first * per_strip
        rows = min(height, top + len(data) * per_strip) - top
        with Image.open(io.BytesIO(_strip_tiff(width, rows, per_strip, fields, data)),
                        formats=["TIFF"]) as band:
            band.load()
            page.paste(band.convert("L"), (0, top))
    return page, orientation


def _strip_tiff(width: int, height: int, per_strip: int, fields: dict[int, int],
                strips: list[bytes]) -> bytes:
    """A little-endian TIFF of 8-bit RGB ``strips`` (compressed as ``fields`` say)."""
    short, long_ = 3, 4
    n = len(strips)
    entries: list[tuple[int, int, list[int]]] = [
        (256, long_, [width]), (257, long_, [height]), (258, short, [8, 8, 8]),
        (259, short, [fields[259]]), (262, short, [2]), (273, long_, [0] * n),
        (277, short, [3]), (278, long_, [per_strip]), (279, long_, [len(b) for b in strips]),
        (284, short, [1]), (317, short, [fields[317]]),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    extra = bytearray()
    base = 8 + ifd_size

    def packed(kind: int, values: list[int]) -> bytes:
        return struct.pack(f"<{len(values)}{'H' if kind == short else 'I'}", *values)

    sizes = [len(packed(k, v)) for _, k, v in entries]
    data_start = base + sum(size for size in sizes if size > 4)
    starts, position = [], data_start
    for b in strips:
        starts.append(position)
        position += len(b)
    entries[5] = (273, long_, starts)
    ifd = bytearray(struct.pack("<H", len(entries)))
    for tag, kind, values in entries:
        raw = packed(kind, values)
        if len(raw) > 4:
            ifd += struct.pack("<HHII", tag, kind, len(values), base + len(extra))
            extra += raw
        else:
            ifd += struct.pack("<HHI", tag, kind, len(values)) + raw.ljust(4, b"\0")
    ifd += b"\0" * 4
    return b"II*\x00" + struct.pack("<I", 8) + bytes(ifd) + bytes(extra) + b"".join(strips)


def _png_chunk(fp: IO[bytes]) -> tuple[bytes, bytes]:
    """The data of the next IDAT chunk and the type of the chunk read; b"" past the IDATs."""
    header = fp.read(8)
    if len(header) < 8:
        raise EOFError("image file is truncated (PNG chunk header)")
    length, kind = struct.unpack(">I4s", header)
    if not kind.isalpha():  # what Pillow calls a broken PNG file
        raise SyntaxError(f"broken PNG file (chunk {kind!r})")
    if kind != b"IDAT":
        fp.seek(-8, io.SEEK_CUR)
        return b"", kind
    data = fp.read(length)
    if len(data) < length:
        raise EOFError("image file is truncated (PNG image data)")
    fp.read(4)  # CRC: Pillow does not check it on image data either
    return data, kind


def _png_trailer(frame: ImageFile.ImageFile, fp: IO[bytes]) -> int:
    """Walk the chunks after the image data as Pillow does; returns the EXIF orientation.

    A chunk cut short means the file is truncated (Pillow refuses it too); a
    missing IEND does not.  The orientation comes from an eXIf chunk before or
    after the image data (1 if none).
    """
    raw = frame.info.get("exif")
    here = fp.tell()
    end = fp.seek(0, io.SEEK_END)
    fp.seek(here)
    for _ in range(100_000):  # a hostile file may chain chunks without end
        header = fp.read(8)
        if len(header) < 8:
            break
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IEND" or kind == b"fcTL":  # fcTL: the next animation frame
            break
        if fp.tell() + length > end:
            raise EOFError("Truncated File Read (PNG chunk after the image data)")
        if kind == b"eXIf" and raw is None:
            raw = fp.read(length)
            length = 0
        fp.seek(length + 4, io.SEEK_CUR)
    if not raw:
        return 1
    try:
        exif = Image.Exif()
        exif.load(raw if raw.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + raw)
        value = int(exif.get(0x0112, 1))
    except Exception:  # noqa: BLE001 - metadata only; the pixels are fine
        return 1
    return value if 1 <= value <= 8 else 1


def exif_orientation(image: Image.Image) -> int:
    """EXIF/TIFF orientation 1..8; 1 when absent or unreadable (broken EXIF is not fatal)."""
    try:
        value = int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - metadata only; the pixels are fine
        return 1
    return value if 1 <= value <= 8 else 1


def flatten_onto_white(image: Image.Image) -> Image.Image:
    """``LA``/``RGBA`` onto a white page of ``L``/``RGB``: scans have no transparency."""
    base = image.mode[:-1]  # "L" or "RGB"
    white = Image.new(base, image.size, "white")
    # RGBA pastes onto RGB as it is; LA is converted by paste (one byte a pixel).
    white.paste(image, mask=image.getchannel("A"))
    return white


__all__ = ["PNG_BAND_BYTES", "png_gray", "tiff_gray", "exif_orientation", "flatten_onto_white"]
