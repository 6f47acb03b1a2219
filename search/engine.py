"""Evaluate a Whoosh query over whole posting lists at once, with numpy.

Whoosh's matchers visit one page at a time in Python: fine for rare words,
but a word on most of 200 000 pages costs a second or more, and grouping,
facets and the exact total need every matching page. Here each query node
becomes two dense arrays over the searcher's page numbers: which pages match
and their score. The scores are Whoosh's own (BM25F with the searcher's idf
and average lengths; And and Or add their children's scores; boosts
multiply), so results rank as before; ``tests/test_search_engine.py``
compares both paths.

Only the node types the query parser produces are handled (terms, and/or/
not, phrases, prefix, fuzzy and numeric ranges). Anything else raises
``Unsupported`` and the caller falls back to Whoosh's matchers.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.query.wrappers import ConstantScoreQuery
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from . import arrays
from .arrays import POSITION_BITS, SegmentColumns


class Unsupported(Exception):
    """This query needs Whoosh's own matchers (a node type the engine does not model)."""


@dataclass
class Hits:
    """Dense over the searcher's page numbers: which match, with what score."""

    mask: np.ndarray  # bool
    score: np.ndarray  # float64, 0 where not matching


@dataclass
class View:
    """A searcher seen as arrays: its segments, their offsets and their page columns.

    It holds its searcher weakly: views are cached per searcher (a weak-keyed
    dictionary), and a strong reference back would keep every searcher ever
    opened alive.
    """

    searcher_ref: weakref.ref[Searcher]
    leaves: list[tuple[Any, int]]  # (segment reader, first global page number)
    size: int  # pages, deleted ones included (page numbers run 0..size-1)
    live: np.ndarray  # bool: not deleted
    columns: list[SegmentColumns]
    k1: float
    b: float

    @property
    def searcher(self) -> Searcher:
        searcher = self.searcher_ref()
        if searcher is None:  # only used while a search holds its searcher
            raise RuntimeError("searcher closed")
        return searcher

    def lengths(self, fieldname: str) -> np.ndarray:
        return np.concatenate([c.lengths[fieldname] for c in self.columns]) \
            if self.columns else np.zeros(0)


LENGTH_FIELDS = ("text", "text_exact", "title")


def view(searcher: Searcher) -> View:
    weighting = searcher.weighting
    if type(weighting) is not BM25F or getattr(weighting, "_field_B", None):
        raise Unsupported("weighting")
    reader = searcher.reader()
    leaves = list(reader.leaf_readers())
    size = reader.doc_count_all()
    live = np.ones(size, dtype=bool)
    columns = []
    for seg, offset in leaves:
        columns.append(arrays.segment_columns(seg, LENGTH_FIELDS))
        if seg.has_deletions():
            gone = np.fromiter(seg.deleted_docs_set, np.int64)
            live[gone + offset] = False
    return View(weakref.ref(searcher), leaves, size, live, columns, weighting.K1, weighting.B)


def _no_check() -> None:
    pass


class _Evaluator:
    def __init__(self, v: View, check: Callable[[], None] = _no_check) -> None:
        self.v = v
        self.schema = v.searcher.schema
        self._lengths: dict[str, np.ndarray] = {}
        self.check = check  # raises when the search's time is spent (search.limits.Budget)

    def empty(self) -> Hits:
        return Hits(np.zeros(self.v.size, dtype=bool), np.zeros(self.v.size))

    @property
    def searcher(self) -> Searcher:
        searcher = self.searcher_ref()
        if searcher is None:  # only used while a search holds its searcher
            raise RuntimeError("searcher closed")
        return searcher

    def lengths(self, fieldname: str) -> np.ndarray:
        if fieldname not in self._lengths:
            self._lengths[fieldname] = self.v.lengths(fieldname)
        return self._lengths[fieldname]

    def run(self, q: wq.Query) -> Hits:
        self.check()
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.And):
            return self.all_of(q)
        if isinstance(q, wq.Or):
            return self.any_of(q)
        if isinstance(q, wq.AndNot):
            a, b = self.run(q.a), self.run(q.b)
            mask = a.mask & ~b.mask
            return self._boost(Hits(mask, np.where(mask, a.score, 0.0)), q.boost)
        if isinstance(q, wq.Phrase):
            return self.phrase(q)
        if isinstance(q, wq.NumericRange):
            return self.run(q._compile_query(self.v.searcher.reader()))
        if isinstance(q, ConstantScoreQuery):
            inner = self.run(q.child)
            return Hits(inner.mask, np.where(inner.mask, float(q.score), 0.0))
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            return Hits(self.v.live.copy(), np.where(self.v.live, float(q.boost), 0.0))
        if isinstance(q, wq.MultiTerm):  # scored like the Or of its terms, constantscore or not
            return self.expanded(q)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return self.empty()
        raise Unsupported(type(q).__name__)

    def _boost(self, h: Hits, boost: float) -> Hits:
        if boost != 1.0:
            h.score = h.score * boost
        return h

    def term(self, fieldname: str, text: Any, boost: float = 1.0) -> Hits:
        out = self.empty()
        if fieldname not in self.schema:
            return out
        field = self.schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return out
        searcher = self.v.searcher
        if (fieldname, btext) not in searcher.reader():
            return out
        scorable = field.scorable
        if scorable:
            idf = searcher.idf(fieldname, btext)
            avgfl = searcher.avg_field_length(fieldname) or 1
            k1, b = self.v.k1, self.v.b
            lengths = self.lengths(fieldname)
        for seg, offset in self.v.leaves:
            p = arrays.postings(seg, fieldname, btext)
            if not len(p.ids):
                continue
            ids = p.ids + offset
            if scorable:
                tf = p.weights
                fl = lengths[ids]
                s = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
            else:
                s = p.weights
            out.mask[ids] = True
            out.score[ids] = s
        out.mask &= self.v.live
        out.score[~out.mask] = 0.0
        return self._boost(out, boost)

    def all_of(self, q: wq.And) -> Hits:
        positive = [s for s in q.subqueries if not isinstance(s, wq.Not)]
        negative = [s.query for s in q.subqueries if isinstance(s, wq.Not)]
        if not positive:
            raise Unsupported("And of Not only")
        first = self.run(positive[0])
        mask, score = first.mask, first.score
        for sub in positive[1:]:
            h = self.run(sub)
            mask = mask & h.mask
            score = score + h.score
        for sub in negative:
            mask = mask & ~self.run(sub).mask
        return self._boost(Hits(mask, np.where(mask, score, 0.0)), q.boost)

    def any_of(self, q: wq.Or) -> Hits:
        if getattr(q, "scale", None) or getattr(q, "minmatch", 0):
            raise Unsupported("Or with coordination")
        out = self.empty()
        for sub in q.subqueries:
            if isinstance(sub, wq.Not):
                raise Unsupported("Or of Not")
            h = self.run(sub)
            out.mask |= h.mask
            out.score += h.score
        return self._boost(out, q.boost)

    def expanded(self, q: wq.MultiTerm) -> Hits:
        """Prefix, fuzzy, wildcard: an Or of the index terms they stand for."""
        reader = self.v.searcher.reader()
        words = [w for w in q._btexts(reader) if w]
        out = self.empty()
        for w in words:
            self.check()
            h = self.term(q.field(), w, q.boost)
            out.mask |= h.mask
            out.score += h.score
        return out

    def phrase(self, q: wq.Phrase) -> Hits:
        if q.slop != 1:
            raise Unsupported("phrase with slop")
        fieldname = q.fieldname
        field = self.schema[fieldname] if fieldname in self.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            raise Unsupported("phrase without positions")
        words = []
        for word in q.words:
            try:
                words.append(field.to_bytes(word))
            except ValueError:
                return self.empty()
        reader = self.v.searcher.reader()
        if not words or any((fieldname, w) not in reader for w in words):
            return self.empty()
        # Whoosh scores a phrase as the And of its words (SpanNear2 wraps an intersection).
        both = self.run(wq.And([wq.Term(fieldname, w) for w in words]))
        where = self.empty().mask
        for seg, offset in self.v.leaves:
            self.check()
            # Word i sits i places after word 0. Start from the rarest word's occurrences
            # (moved to where word 0 would be) and keep those whose neighbours are there too;
            # the big lists of common words are only searched, never copied or shifted.
            lists = [(arrays.positions(seg, fieldname, w), i) for i, w in enumerate(words)]
            lists.sort(key=lambda li: len(li[0]))
            rare, at = lists[0]
            starts = rare - at
            for keys, i in lists[1:]:
                if not len(starts):
                    break
                starts = starts[_contains_sorted(keys, starts + i)]
            if len(starts):  # sorted keys: repeated pages just set the same flag again
                where[(starts >> POSITION_BITS) + offset] = True
        mask = both.mask & where
        return self._boost(Hits(mask, np.where(mask, both.score, 0.0)), q.boost)


def _contains_sorted(big: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in sorted ``big``: one binary search each, nothing copied."""
    if not len(big):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(big, values)
    at[at == len(big)] = len(big) - 1
    return big[at] == values


def evaluate(v: View, q: wq.Query, check: Callable[[], None] = _no_check) -> Hits:
    """The pages matching ``q`` and their Whoosh scores; raises ``Unsupported``.

    ``check`` is called between steps and may raise to stop a search past its time.
    """
    return _Evaluator(v, check).run(q)
