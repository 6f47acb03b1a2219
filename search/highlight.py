"""Marking what a query hit: an escaped snippet of the page text and the boxes of the hit words.

OCR text is untrusted input (a scanned page may well read ``<script>``), so
every character of it goes through ``html.escape``; the only markup in a
snippet is the ``<mark>`` added here.

Hits are found by running the page text (or each OCR word) through the same
analyzers as the index and comparing terms, so accents, case, plurals and
thousands dots are handled exactly as the search handled them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.reading import IndexReader

from archive.words import Word

from .analysis import spanish_stop_words, term_spans
from .results import WordBox
from .schema import IDENTIFIER_FIELDS

SNIPPET_CHARS = 240
_LEAD = 60  # context kept before the first hit of the snippet
_SPACES = re.compile(r"\s+")


@dataclass
class HitTerms:
    """Terms to mark: stemmed (``text`` field) and as written (``text_exact``)."""

    stems: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.stems or self.exact)

    def matches(self, fieldname: str, term: str) -> bool:
        return term in (self.stems if fieldname == "text" else self.exact)


def _decode(text: object) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def terms_of(q: wq.Query | None, reader: IndexReader) -> HitTerms:
    """The index terms a (positive) query matched, fuzzy and prefix terms expanded."""
    out = HitTerms()
    if q is None:
        return out
    # Leaf by leaf: Whoosh's ``existing_terms`` of a whole tree keeps only the fields of
    # its first leaf (its loop variable overwrites the field filter), so the as-written
    # words of "robo" -> text:rob OR text_exact:robo were never marked.
    for fieldname, text in (t for leaf in q.leaves()
                            for t in leaf.existing_terms(reader, phrases=True, expand=True)):
        if fieldname in ("text", "title"):
            out.stems.add(_decode(text))
        elif fieldname == "text_exact":
            out.exact.add(_decode(text))
        elif fieldname in ("nis", *IDENTIFIER_FIELDS):
            out.exact.add(re.sub(r"\W", "", _decode(text)))  # as the number reads in the text
    if len(out.exact) > 1:  # "robo de medidor": mark robo and medidor, not every "de"
        out.exact -= spanish_stop_words()
    return out


_NUMBER_SEPARATORS = re.compile(r"[.,\-/]")


def _cannot_hold(text: str, terms: HitTerms) -> bool:
    """True when ``text`` surely holds none of ``terms`` (numbers only: an exact lookup).

    A number matches only if its digits appear in a row once the separators
    the analyzer removes are gone: one C-level pass instead of analysing
    every word of every page of the document.
    """
    if terms.stems or not all(t.isdigit() for t in terms.exact):
        return False
    bare = _NUMBER_SEPARATORS.sub("", text)
    return not any(t in bare for t in terms.exact)


def hit_spans(text: str, terms: HitTerms) -> list[tuple[int, int]]:
    """Merged, sorted character spans of ``text`` that match ``terms``."""
    if not terms or not text or _cannot_hold(text, terms):
        return []
    spans = sorted((s, e) for f, t, s, e in term_spans(text) if terms.matches(f, t))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _window(text: str, spans: Sequence[tuple[int, int]], width: int) -> tuple[int, int]:
    """The ``width``-character stretch of ``text`` holding the most hits, on word boundaries."""
    if not spans:
        start = 0
    else:
        best, start = -1, 0
        for s, _ in spans:
            count = sum(1 for s2, e2 in spans if s <= s2 and e2 <= s + width)
            if count > best:
                best, start = count, s
        start = max(0, start - _LEAD)
    end = min(len(text), start + width)
    if start > 0:
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", max(start, end - 20), end)
        end = space if space != -1 else end
    return start, end


def snippet(text: str, terms: HitTerms, width: int = SNIPPET_CHARS, *,
            spans: Sequence[tuple[int, int]] | None = None) -> str:
    """Escaped HTML excerpt of ``text`` with ``<mark>`` around hits; whitespace collapsed.

    ``spans`` (from ``hit_spans``) saves analysing the text twice.
    """
    text = text or ""
    spans = hit_spans(text, terms) if spans is None else spans
    start, end = _window(text, spans, width)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    out.append("…" if end < len(text) else "")
    return _SPACES.sub(" ", "".join(out)).strip()


def hit_boxes(words: Iterable[Word], terms: HitTerms) -> list[WordBox]:
    """Boxes of the OCR words that match ``terms`` (accents, case, dots ignored alike)."""
    if not terms:
        return []
    return [WordBox(w.left, w.top, w.width, w.height, w.text) for w in words
            if any(terms.matches(f, t) for f, t, _, _ in term_spans(w.text))]
