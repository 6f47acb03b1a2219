"""Plain data passed between ingest steps."""

from __future__ import annotations

from dataclasses import dataclass


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
