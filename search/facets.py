"""Facet counts (documents per type, regional unit and year) with Spanish labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from archive.enums import DocumentType

from .results import FacetCount

_LABELS = {t.value: t.label for t in DocumentType}


def count_facets(rows: Iterable[tuple[str, Iterable[str], int | None]],
                 regional_names: Mapping[str, str]) -> dict[str, list[FacetCount]]:
    """``rows`` are (doc_type, regional codes, year) per document; most frequent first."""
    types: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    years: Counter[int] = Counter()
    for doc_type, codes, year in rows:
        types[doc_type] += 1
        regions.update({c.upper() for c in codes if c})
        if year:
            years[int(year)] += 1
    return facet_lists(types, regions, years, regional_names)


def facet_lists(types: Mapping[str, int], regions: Mapping[str, int], years: Mapping[int, int],
                regional_names: Mapping[str, str]) -> dict[str, list[FacetCount]]:
    """Counts already made (by ``search.grouping``) as labelled lists.

    Most frequent first, ties by value, so the order does not depend on the
    order the documents were counted in; years newest first.
    """
    def ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
        return sorted(((v, n) for v, n in counts.items() if n), key=lambda vn: (-vn[1], vn[0]))

    return {
        "tipo": [FacetCount(v, _LABELS.get(v, v), n) for v, n in ranked(types)],
        "regional": [FacetCount(v, regional_names.get(v, v), n) for v, n in ranked(regions)],
        "anio": [FacetCount(str(y), str(y), n) for y, n in sorted(years.items(), reverse=True)
                 if n],
    }
