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
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.fields import TEXT
from whoosh.formats import Frequency, Positions
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.system import pack_uint
from whoosh.support.charset import accent_map

# Re-exported for the benchmarks, which compare words folded like the stop words.
from archive.identifiers import fold as fold

# A number whose digit groups are joined by . , - or / ; otherwise a run of word characters.
TOKEN_PATTERN = r"\d+(?:[.,\-/]\d+)+|\w+"
_SEPARATOR = re.compile(r"[.,\-/]")


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


class PageAnalysis(NamedTuple):
    """One page's terms as the index stores them: stem counts, and positions of exact terms."""

    stems: dict[str, int]
    exact: dict[str, list[int]]


@lru_cache(maxsize=8)
def analyse_page(text: str) -> PageAnalysis:
    """Both analyses of a page in one pass (index mode), for ``FastText`` fields.

    The same chain as ``spanish_analyzer`` and ``exact_analyzer`` written out
    as one loop, like ``term_spans``. A page's text is handed to the ``text``
    and ``text_exact`` fields one after the other: the small cache makes the
    second field free. ``tests/test_search_analysis.py`` checks the output
    equals Whoosh's analyzers term for term.
    """
    stops, stem = spanish_stop_words(), _stem()
    stems: dict[str, int] = {}
    exact: dict[str, list[int]] = {}
    for pos, m in enumerate(_TOKEN.finditer(text)):
        raw = m.group()
        if raw[:1].isdigit() and not raw.isdigit():  # NumberFilter: digits alone, then groups
            pieces = _SEPARATOR.split(raw)
            joined = "".join(pieces)
            seen = {joined}
            words = [joined] + [p for p in pieces if not (p in seen or seen.add(p))]
            for i, word in enumerate(words):
                term = word.lower().translate(accent_map)  # type: ignore[arg-type]
                exact.setdefault(term, []).append(pos)
                if i == 0 and len(term) >= 2 and term not in stops:
                    s = stem(term)
                    stems[s] = stems.get(s, 0) + 1
            continue
        term = raw.lower().translate(accent_map)  # type: ignore[arg-type]
        exact.setdefault(term, []).append(pos)
        if len(term) >= 2 and term not in stops:
            s = stem(term)
            stems[s] = stems.get(s, 0) + 1
    return PageAnalysis(stems, exact)


class FastText(TEXT):
    """A TEXT field that indexes through ``analyse_page`` instead of its analyzer chain.

    Queries still go through ``analyzer`` (the same chain, as Whoosh objects).
    ``kind`` says which half of the page analysis this field stores.
    """

    def __init__(self, kind: str, **kwargs: Any) -> None:
        analyzer = spanish_analyzer() if kind == "stems" else exact_analyzer()
        super().__init__(analyzer=analyzer, **kwargs)
        self.kind = kind

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str) or kwargs:
            yield from super().index(value, **kwargs)
            return
        fmt = self.format
        boost = fmt.field_boost
        page = analyse_page(value)
        if self.kind == "stems":
            if not isinstance(fmt, Frequency):  # positions wanted: only the analyzer has them
                yield from super().index(value)
                return
            for term, freq in page.stems.items():
                yield term.encode("utf-8"), freq, freq * boost, pack_uint(freq)
        else:
            positional = isinstance(fmt, Positions)
            for term, poses in page.exact.items():
                n = len(poses)
                yield (term.encode("utf-8"), n, n * boost,
                       fmt.encode(poses) if positional else pack_uint(n))
