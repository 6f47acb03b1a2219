"""Text analysis for Spanish OCR text: the same chain runs at index and at query time.

Two analyses of every page:

* ``spanish_analyzer``: lowercase, accent folding, Spanish stop words, Snowball
  stemming, so "heladeras" finds "heladera" and "Capiatá" finds "capiata".
  Accents are folded *before* stemming: OCR often drops accents, and the
  stemmer must see the same letters either way.
* ``exact_analyzer``: the same tokens without stop words or stemming, so exact
  words and numbers still match (and rank higher).

Numbers written with separators ("3.603.408", "80012345-6", "15/03/2023") are
one token whose text is the digits alone, so "3.603.408" and "3603408" are the
same term. In the exact field the groups are indexed too, at the same
position, so "2023" finds "15/03/2023".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

# A number whose digit groups are joined by . , - or / ; otherwise a run of word characters.
TOKEN_PATTERN = r"\d+(?:[.,\-/]\d+)+|\w+"
_SEPARATOR = re.compile(r"[.,\-/]")


def fold(text: str) -> str:
    """Lowercase without accents ("Capiatá" -> "capiata"); used wherever names are compared."""
    norm = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


class NumberFilter(Filter):
    """Turn "3.603.408" into "3603408"; with ``groups``, also emit "3", "603", "408" at index time.

    Groups are only added when indexing (``mode != "query"``): a query for
    "3.603.408" must look for the whole number, not for any of its pieces.
    """

    def __init__(self, groups: bool = False) -> None:
        self.groups = groups

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.groups == other.groups  # type: ignore[attr-defined]

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:  # type: ignore[override]
        for t in tokens:
            text = t.text
            # Only the number branch of TOKEN_PATTERN can hold separators: cheap test first.
            if not text[:1].isdigit() or text.isdigit():
                yield t
                continue
            pieces = _SEPARATOR.split(text)
            joined = "".join(pieces)
            start = t.startchar if t.chars else 0
            end = t.endchar if t.chars else 0
            t.text = joined
            yield t
            if not self.groups or t.mode == "query":
                continue
            seen = {joined}
            offset = 0
            for piece in pieces:
                at = text.index(piece, offset)
                offset = at + len(piece)
                if piece in seen:
                    continue
                seen.add(piece)
                t.text = piece
                if t.chars:
                    t.startchar, t.endchar = start + at, start + at + len(piece)
                yield t
            if t.chars:
                t.startchar, t.endchar = start, end


@lru_cache(maxsize=1)
def spanish_stop_words() -> frozenset[str]:
    """Whoosh's Spanish stop list, accent-folded like the tokens it is compared with."""
    return frozenset(fold(w) for w in stopwords_for_language("es"))


def spanish_analyzer():  # type: ignore[no-untyped-def]
    """Tokens for ranking by meaning: folded, no stop words, stemmed."""
    return (RegexTokenizer(TOKEN_PATTERN) | NumberFilter(groups=False) | LowercaseFilter()
            | CharsetFilter(accent_map) | StopFilter(stoplist=spanish_stop_words())
            | StemFilter(lang="es"))


def exact_analyzer():  # type: ignore[no-untyped-def]
    """Tokens as written (folded), every word and number kept."""
    return (RegexTokenizer(TOKEN_PATTERN) | NumberFilter(groups=True) | LowercaseFilter()
            | CharsetFilter(accent_map))


@lru_cache(maxsize=1)
def _analyzers():  # type: ignore[no-untyped-def]
    return spanish_analyzer(), exact_analyzer()


def stems(text: str) -> set[str]:
    """The stemmed terms of ``text`` (index mode), as the ``text`` field holds them."""
    return {t.text for t in _analyzers()[0](text, mode="index")}


def exact_terms(text: str) -> set[str]:
    """The unstemmed terms of ``text`` (index mode), as the ``text_exact`` field holds them."""
    return {t.text for t in _analyzers()[1](text, mode="index")}


@lru_cache(maxsize=1)
def _stem() -> Callable[[str], str]:
    return lru_cache(maxsize=50_000)(stemmer_for_language("es"))


_TOKEN = re.compile(TOKEN_PATTERN)


def term_spans(text: str) -> Iterator[tuple[str, str, int, int]]:
    """``(field, term, start, end)`` for every token of ``text``, as both fields index it.

    Offsets point into ``text``, so a caller can mark the words a query hit.
    This is the analyzer chain written out as one loop (tokenize, join
    numbers, lowercase, fold, stop, stem): highlighting runs it on every
    shown page, and Whoosh's generic filter chain costs ten times more.
    ``tests/test_search_analysis.py`` checks that both give the same terms.
    """
    stops, stem = spanish_stop_words(), _stem()
    for m in _TOKEN.finditer(text):
        raw, start, end = m.group(), m.start(), m.end()
        if raw[:1].isdigit() and not raw.isdigit():  # "3.603.408": digits alone, groups too
            pieces = _SEPARATOR.split(raw)
            joined = "".join(pieces)
            yield "text_exact", joined, start, end
            if len(joined) >= 2:
                yield "text", stem(joined), start, end
            offset = 0
            for piece in pieces:
                at = raw.index(piece, offset)
                offset = at + len(piece)
                if piece != joined:
                    yield "text_exact", piece, start + at, start + at + len(piece)
            continue
        term = raw.lower().translate(accent_map)  # type: ignore[arg-type]  # keyed by ord()
        yield "text_exact", term, start, end
        if len(term) >= 2 and term not in stops:
            yield "text", stem(term), start, end
