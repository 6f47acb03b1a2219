"""The Pillow internals the page reader uses, quarantined here with a version check.

Why: a decoded frame's pixels can only be moved into an image of their own
without a copy through ``Image._new(frame.im)`` and then dropped from the frame
(``frame._im = None``), so the next TIFF page decodes into a fresh buffer. A copy
would hold a huge page twice (648 MB for a 9000x9000 colour page, see
``docs/benchmarks.md``). Pillow has no public call for it.

Contract: only :func:`take_pixels` and :func:`drop_pixels` touch private names.
They are used with the Pillow majors the test suite ran (``TESTED_MAJORS``); on any
other version they fall back to the public, copying path, which is correct but
uses more memory, and ``tests/test_page_memory.py`` says which path ran.
"""

from __future__ import annotations

from functools import lru_cache

import PIL
from PIL import Image, ImageFile

TESTED_MAJORS = frozenset({12, 13})


@lru_cache(maxsize=1)
def internals_usable() -> bool:
    """This Pillow is one whose internals were tested (and still has them)."""
    try:
        major = int(PIL.__version__.split(".")[0])
    except ValueError:
        return False
    return major in TESTED_MAJORS and callable(getattr(Image.Image, "_new", None))


def take_pixels(frame: ImageFile.ImageFile) -> Image.Image:
    """The frame's decoded pixels as an image of their own (no copy when possible)."""
    if not internals_usable():
        return frame.copy()
    image = frame._new(frame.im)
    frame._im = None
    return image


def drop_pixels(frame: ImageFile.ImageFile) -> None:
    """Free the frame's decoded pixels once they were converted into a new image."""
    if internals_usable():
        frame._im = None


__all__ = ["TESTED_MAJORS", "internals_usable", "take_pixels", "drop_pixels"]
