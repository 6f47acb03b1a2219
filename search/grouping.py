"""Pages to documents in one vectorised pass: best page, total, facets, sort, one result page.

The engine (``search.engine``) hands over every matching page with its
score. A document is represented by its best page (highest score; on a tie,
the first page in index order, as Whoosh's own ranking did). Exclusions
(``-palabra``) drop whole documents. Facets count documents, not pages.
Everything is linear in the number of matching pages except sorting the
documents that can make the requested result page; only those rows become
Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .engine import Hits, View


class Match(NamedTuple):
    """One matching document: its best page and what sorting and facets need."""

    document_id: int
    score: float
    page: int
    day: int  # yyyymmdd
    doc_type: str
    regions: list[str]


@dataclass
class Grouped:
    """A result page of documents, the document total, and facet counts (value -> count)."""

    total: int
    rows: list[Match]
    types: dict[str, int]
    regions: dict[str, int]
    years: dict[int, int]


@dataclass
class Columns:
    """The view's per-page columns, concatenated, with codes into shared tables."""

    document_id: np.ndarray
    page: np.ndarray
    date: np.ndarray
    doc_type: np.ndarray
    types: list[str]
    regions: np.ndarray
    region_sets: list[tuple[str, ...]]


def _merge_codes(parts: list[tuple[np.ndarray, list[Any]]]) -> tuple[np.ndarray, list[Any]]:
    """One code table for all segments: each segment's codes translated into it."""
    table: dict[object, int] = {}
    out = []
    for codes, names in parts:
        remap = np.fromiter((table.setdefault(n, len(table)) for n in names), np.int32, len(names))
        out.append(remap[codes] if len(names) else codes)
    return (np.concatenate(out) if out else np.zeros(0, np.int32)), list(table)


def columns(v: View) -> Columns:
    cs = v.columns
    if not cs:
        z = np.zeros(0, np.int64)
        return Columns(z, z, z, z, [], z, [])
    types, type_names = _merge_codes([(c.doc_type, c.types) for c in cs])
    regions, region_sets = _merge_codes([(c.regions, c.region_sets) for c in cs])
    return Columns(
        document_id=np.concatenate([c.document_id for c in cs]),
        page=np.concatenate([c.page for c in cs]),
        date=np.concatenate([c.date for c in cs]),
        doc_type=types, types=type_names, regions=regions, region_sets=region_sets)


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` hashes, which is slower on these arrays)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _all_distinct(values: np.ndarray) -> bool:
    # A rebuild writes documents in id order, so the usual answer needs no sort.
    if len(values) < 2 or bool(np.all(values[1:] > values[:-1])):
        return True
    ordered = np.sort(values)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


def documents_of(cols: Columns, mask: np.ndarray) -> np.ndarray:
    """The distinct document ids of the pages in ``mask``."""
    return distinct(cols.document_id[mask])


def group(cols: Columns, hits: Hits, excluded: np.ndarray | None, *, sort: str,
          start: int, stop: int) -> Grouped:
    """Documents of ``hits`` minus ``excluded`` ids; rows ``start:stop`` in ``sort`` order."""
    pages = np.flatnonzero(hits.mask)
    docs = cols.document_id[pages]
    if excluded is not None and len(excluded):
        keep = ~np.isin(docs, excluded)
        pages, docs = pages[keep], docs[keep]
    if not len(pages):
        return Grouped(0, [], {}, {}, {})
    scores = hits.score[pages]
    best, doc_ids = _best_pages(pages, docs, scores)
    best_scores = hits.score[best]
    days = cols.date[best].astype(np.int64)
    if sort == "fecha":
        ranking = _ranking(days, best_scores, doc_ids, stop)
    else:
        ranking = _ranking(best_scores, days, doc_ids, stop)
    chosen = ranking[start:stop]
    rows = [Match(int(doc_ids[i]), float(best_scores[i]), int(cols.page[best[i]]), int(days[i]),
                  cols.types[cols.doc_type[best[i]]],
                  list(cols.region_sets[cols.regions[best[i]]])) for i in chosen]
    return Grouped(len(doc_ids), rows, *_facets(cols, best, days))


def _best_pages(pages: np.ndarray, docs: np.ndarray,
                scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best page, document id) per document; best = highest score, then lowest page number.

    A document's pages are written together, so they usually sit next to each
    other in page-number order: then one linear pass over the runs does it.
    Otherwise (never seen, but not guaranteed by Whoosh) a sort does.
    """
    starts = np.r_[0, np.flatnonzero(docs[1:] != docs[:-1]) + 1]
    run_docs = docs[starts]
    if _all_distinct(run_docs):  # one run per document
        top = np.maximum.reduceat(scores, starts)
        counts = np.diff(np.r_[starts, len(docs)])
        at = np.where(scores == np.repeat(top, counts), np.arange(len(pages)), len(pages))
        return pages[np.minimum.reduceat(at, starts)], run_docs
    order = np.lexsort((pages, -scores, docs))  # by document, best score first, lowest page
    docs_sorted = docs[order]
    first = np.flatnonzero(np.r_[True, docs_sorted[1:] != docs_sorted[:-1]])
    return pages[order[first]], docs_sorted[first]


def _ranking(primary: np.ndarray, secondary: np.ndarray, doc_ids: np.ndarray,
             stop: int) -> np.ndarray:
    """Indexes by (primary, secondary, document id) descending, at least the first ``stop``.

    Only the documents that can reach the first ``stop`` places are sorted:
    everything at or above the ``stop``-th largest primary key.
    """
    n = len(primary)
    if stop < n // 2:
        threshold = np.partition(primary, n - stop)[n - stop]
        candidates = np.flatnonzero(primary >= threshold)
    else:
        candidates = np.arange(n)
    order = np.lexsort((doc_ids[candidates], secondary[candidates], primary[candidates]))
    return candidates[order[::-1]]


def _facets(cols: Columns, best: np.ndarray,
            days: np.ndarray) -> tuple[dict[str, int], dict[str, int], dict[int, int]]:
    type_counts = np.bincount(cols.doc_type[best], minlength=len(cols.types))
    types = {cols.types[i]: int(n) for i, n in enumerate(type_counts) if n}
    set_counts = np.bincount(cols.regions[best], minlength=len(cols.region_sets))
    regions: dict[str, int] = {}
    for i, n in enumerate(set_counts):
        if n:
            for code in cols.region_sets[i]:
                regions[code] = regions.get(code, 0) + int(n)
    found = days // 10000
    found = found[found > 0]
    years: dict[int, int] = {}
    if len(found):
        low = int(found.min())
        years = {low + i: int(n) for i, n in enumerate(np.bincount(found - low)) if n}
    return types, regions, years
