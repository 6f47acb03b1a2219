"""Resource limits applied to every uploaded file before and while it is decoded."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds that keep one hostile or absurd file from exhausting a worker.

    ``max_page_pixels`` bounds every page image (declared or rendered): 150 Mpx
    covers an A0 sheet at 300 dpi. ``render_dpi`` is the resolution used to
    rasterise PDF pages that have no usable text layer. ``max_whole_decode_bytes``
    bounds a page that cannot be decoded in bands: a grey page of 150 Mpx fits, a colour
    one (4 bytes a pixel in Pillow) up to ~60 Mpx (A4 at 1200 ppp).
    """

    max_bytes: int = 500 * MiB
    max_pages: int = 2000
    max_page_pixels: int = 150_000_000
    render_dpi: int = 300
    # A page Pillow must decode whole (not band by band: 16-bit or interlaced PNG, tiled,
    # JPEG-compressed or CMYK TIFF, ...) holds this much in memory before it turns grey;
    # past it the worker would exceed 500 MB (docs/benchmarks.md, huge pages).
    max_whole_decode_bytes: int = 240 * MiB


DEFAULT_LIMITS = Limits()
