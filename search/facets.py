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
    years: Counter[str] = Counter()
    for doc_type, codes, year in rows:
        types[doc_type] += 1
        regions.update({c.upper() for c in codes if c})
        if year:
            years[str(year)] += 1
    return {
        "tipo": [FacetCount(v, _LABELS.get(v, v), n) for v, n in types.most_common()],
        "regional": [FacetCount(v, regional_names.get(v, v), n) for v, n in regions.most_common()],
        "anio": [FacetCount(v, v, n) for v, n in sorted(years.items(), reverse=True)],
    }
