"""What one page of a document became: its text, geometry and stored derivatives.

Its own module because the page pass (``ingest.process``), the outcome
(``ingest.finish``), the searchable PDF (``ingest.pdf``) and the rebuild of
derivatives (``ingest.regenerate``) all speak it; none of them should have to
import another to name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.words import Word


@dataclass
class PageResult:
    number: int
    text: str
    text_source: str  # "ocr" | "pdf"
    confidence: float | None
    rotation: int
    skew: float
    width: int  # web image size and resolution
    height: int
    dpi: int
    words: list[Word]  # boxes in web-image pixels
    image_key: str
    thumb_key: str
    words_key: str
    # (sha256, size) of each derivative as written: recorded on the page so that
    # `archivo check` can re-hash it later. None only where a caller builds results by hand.
    image_sum: tuple[str, int] | None = None
    thumb_sum: tuple[str, int] | None = None
    words_sum: tuple[str, int] | None = None


__all__ = ["PageResult"]
