"""Recognised words with their boxes, and the stored word-box format.

Shared by ingest (which writes them) and search (which marks hits on page
images), so it lives in the core.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word, its box in page-image pixels, and a confidence 0..100."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    line: int = 0  # running line number on the page, to rebuild the text

    def as_json(self) -> list[object]:
        return [self.text, self.left, self.top, self.width, self.height, round(self.conf, 1), self.line]

    @classmethod
    def from_json(cls, row: list[object]) -> "Word":
        text, left, top, width, height, conf, line = row
        return cls(str(text), int(left), int(top), int(width), int(height), float(conf), int(line))  # type: ignore[arg-type]


def words_blob(words: Iterable[Word]) -> bytes:
    """Gzipped JSON of the word boxes (``mtime=0``: same words, same bytes, same checksum)."""
    payload = json.dumps([w.as_json() for w in words], ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(payload.encode("utf-8"), compresslevel=6, mtime=0)


def read_words_blob(data: bytes) -> list[Word]:
    """Inverse of ``words_blob``."""
    try:
        rows = json.loads(gzip.decompress(data).decode("utf-8"))
        return [Word.from_json(row) for row in rows]
    except (OSError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"Blob de palabras ilegible: {exc}") from exc
