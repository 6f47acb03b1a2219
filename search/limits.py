"""What one search may cost: how many index words its patterns stand for, and how long it runs.

A reader must not be able to exhaust the server with one query. ``a*``, a
wildcard or a fuzzy word stands for every index word it matches, and each of
those is one posting list read and scored; ``suministros~9`` matched most of
the index and took 20 s and a gigabyte. So the patterns of a query are turned
into plain terms here, before anything is read: at most ``MAX_EXPANSIONS``
index words for the whole query, the most frequent ones, shared fairly among
its patterns, and the reader is told which patterns were cut. Every search
also runs against a ``Budget`` of seconds, checked between steps.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.reading import IndexReader

from .parse import QueryError

# Index words (field by field) all the patterns of one query may stand for.
MAX_EXPANSIONS = 200
# A pattern matching more index words than this is refused: ranking them by frequency
# means reading every one (``a*`` on a large index is tens of thousands).
SCAN_LIMIT = 10_000
# How often, in index words read, a long pattern scan looks at the clock.
CHECK_EVERY = 512

# Patterns people type that stand for many index words (ranges are built by us, bounded).
EXPANDING = (wq.PatternQuery, wq.ExpandingTerm)


class SearchTimeout(QueryError):
    """The search ran past its budget; the message says how to narrow it, in Spanish."""


def timeout_message(seconds: float) -> str:
    return (f"La búsqueda tardaba demasiado (más de {seconds:g} segundos) y se detuvo. "
            "Acótela: escriba más letras antes del *, use menos palabras con * o ~, "
            "o agregue filtros como tipo: o fecha:.")


TOO_BROAD_MESSAGE = ("«{word}» abarca más de {limit} palabras del índice: escriba más letras "
                     "antes del {sign}.")
NO_PREFIX_MESSAGE = ("«{word}» empieza con un comodín y recorrería todo el índice: escriba al "
                     "menos una letra antes del * o del ?.")
CUT_MESSAGE = ("{words} abarca{n} demasiadas palabras del índice: se buscaron solo las "
               "más frecuentes (hasta {limit} en toda la consulta). Escriba más letras "
               "para afinar la búsqueda.")


@dataclass
class Budget:
    """One search's allowance of time, and what was cut to stay within bounds (``notes``)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def check(self) -> None:
        """Raise ``SearchTimeout`` once the time is spent."""
        if self.remaining() <= 0:
            raise SearchTimeout(timeout_message(self.seconds))

    def note(self, message: str) -> None:
        if message not in self.notes:  # the relaxed second pass cuts the same patterns
            self.notes.append(message)


@dataclass
class _Expansion:
    """The index words one pattern stands for: how many, and the most frequent of them."""

    pattern: wq.Query
    total: int
    top: list[bytes]  # most frequent first, at most MAX_EXPANSIONS


def bound_expansions(queries: Sequence[wq.Query | None], reader: IndexReader, budget: Budget,
                     limit: int = MAX_EXPANSIONS) -> list[wq.Query | None]:
    """``queries`` with every pattern replaced by the plain terms it may stand for.

    The terms of all patterns together are at most ``limit``. A pattern with
    fewer words than its fair share keeps them all and leaves the rest to the
    others; a pattern cut short keeps its most frequent words and is named in
    ``budget.notes``.
    """
    patterns = [p for q in queries if q is not None for p in _patterns(q)]
    if not patterns:
        return list(queries)
    for p in patterns:
        if isinstance(p, wq.Wildcard) and not p._find_prefix(p.text):
            raise QueryError(NO_PREFIX_MESSAGE.format(word=p.text))
    found = [_expand(p, reader, budget, limit) for p in patterns]
    shares = allocate([e.total for e in found], limit)
    swap = {id(e.pattern): _as_terms(e.pattern, e.top[:share], reader)
            for e, share in zip(found, shares)}
    cut = [e.pattern for e, share in zip(found, shares) if e.total > share]
    if cut:
        words = _labels(cut)
        budget.note(CUT_MESSAGE.format(words=", ".join(f"«{w}»" for w in words),
                                       n="n" if len(words) > 1 else "", limit=limit))
    return [None if q is None else _replace(q, swap) for q in queries]


def allocate(sizes: Sequence[int], total: int) -> list[int]:
    """Split ``total`` among ``sizes``: small ones get all they need, big ones share the rest."""
    shares = [0] * len(sizes)
    left = total
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for k, i in enumerate(order):
        shares[i] = min(sizes[i], left // (len(sizes) - k))
        left -= shares[i]
    return shares


def _patterns(q: wq.Query) -> Iterator[wq.Query]:
    if isinstance(q, EXPANDING):
        yield q
    elif q.is_leaf():
        return
    else:
        for child in q.children():
            yield from _patterns(child)


def _expand(pattern: Any, reader: IndexReader, budget: Budget, limit: int) -> _Expansion:
    """Count the words ``pattern`` matches and keep the ``limit`` most frequent (ties: A to Z)."""
    fieldname = pattern.field()
    if fieldname not in reader.schema:
        return _Expansion(pattern, 0, [])
    to_bytes = reader.schema[fieldname].to_bytes
    heap: list[tuple[int, bytes]] = []  # (doc frequency, -word order) as a min-heap
    total = 0
    for word in _checked(_words(pattern, reader), budget):
        btext = word if isinstance(word, bytes) else to_bytes(word)
        if not btext:
            continue
        total += 1
        if total > SCAN_LIMIT:
            raise QueryError(TOO_BROAD_MESSAGE.format(
                word=_label(pattern), limit=f"{SCAN_LIMIT:,}".replace(",", " "),
                sign="~" if isinstance(pattern, wq.FuzzyTerm) else "*"))
        item = (reader.doc_frequency(fieldname, btext), _reverse(btext))
        if len(heap) < limit:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    top = [_unreverse(w) for _, w in sorted(heap, reverse=True)]
    return _Expansion(pattern, total, top)


def _words(pattern: Any, reader: IndexReader) -> Iterable[Any]:
    """The index words ``pattern`` stands for.

    A fuzzy word is looked up segment by segment: each segment walks its word
    list with an automaton, where a reader over several segments would compute
    the edit distance of every word of the field in Python.
    """
    if not isinstance(pattern, wq.FuzzyTerm):
        return pattern._btexts(reader)
    leaves = [seg for seg, _ in reader.leaf_readers()] if not reader.is_atomic() else [reader]
    if len(leaves) == 1:
        return pattern._btexts(leaves[0])
    seen: dict[Any, None] = {}
    for seg in leaves:
        seen.update(dict.fromkeys(pattern._btexts(seg)))
    return seen


def _reverse(btext: bytes) -> bytes:
    """A key that sorts words backwards, so the heap keeps the first ones of equal frequency."""
    return bytes(255 - b for b in btext) + b"\xff"


def _unreverse(key: bytes) -> bytes:
    return bytes(255 - b for b in key[:-1])


def _checked(words: Iterable[Any], budget: Budget) -> Iterator[Any]:
    """``words``, looking at the clock every ``CHECK_EVERY`` (a scan of a whole field is long)."""
    budget.check()
    for n, word in enumerate(words, start=1):
        if n % CHECK_EVERY == 0:
            budget.check()
        yield word


def _as_terms(pattern: Any, words: Sequence[bytes], reader: IndexReader) -> wq.Query:
    """The Or of the kept words, scored as the engine scores a pattern (a sum, same boost)."""
    fieldname = pattern.field()
    if not words:
        return wq.NullQuery
    from_bytes = reader.schema[fieldname].from_bytes
    terms = [wq.Term(fieldname, from_bytes(w), boost=pattern.boost) for w in words]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def _replace(q: wq.Query, swap: dict[int, wq.Query]) -> wq.Query:
    if id(q) in swap:
        return swap[id(q)]
    if q.is_leaf():
        return q
    return q.apply(lambda child: _replace(child, swap))


_SHOWN_FIELDS = ("text_exact",)  # as written; the stemmed fields hold cut-down words


def _labels(patterns: Sequence[Any]) -> list[str]:
    """How people typed the cut patterns, once each (one word is searched in three fields)."""
    ordered = sorted(patterns, key=lambda p: p.field() not in _SHOWN_FIELDS)
    seen: dict[tuple[Any, Any], str] = {}
    for p in ordered:
        key = (getattr(p, "startchar", None), getattr(p, "endchar", None), type(p))
        if key[0] is None:
            key = (p.field(), p.text, type(p))
        seen.setdefault(key, _label(p))
    return list(dict.fromkeys(seen.values()))


def _label(p: Any) -> str:
    if isinstance(p, wq.Prefix):
        return f"{p.text}*"
    if isinstance(p, wq.FuzzyTerm):
        return f"{p.text}~{p.maxdist}" if p.maxdist != 1 else f"{p.text}~"
    return str(p.text)
