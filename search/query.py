"""``search()``: the one entry point of the web API and the CLI.

A lone identifier goes to the database (``search.exact``); anything else to
Whoosh. Whoosh returns pages; they are grouped by document here (the best
page represents its document), counted into facets, sorted and cut into
result pages. Only the documents of the requested result page are then read
from the database and storage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import select

from archive.db import session_scope
from archive.models import RegionalUnit
from archive.services import Services

from . import exact
from . import index as search_index
from .facets import count_facets
from .highlight import HitTerms, terms_of
from .hits import Ranked, load_hits
from .parse import (
    Clause,
    ExactRequest,
    QueryError,
    QueryParts,
    RegionalUnits,
    can_relax,
    filter_clauses,
    parse_query,
    positive_part,
    whoosh_query,
)
from .results import MODE_EMPTY, MODE_EXACT, MODE_TEXT, SearchResults

log = logging.getLogger(__name__)

SORTS = ("relevancia", "fecha")
RELAXED_MESSAGE = ("Ningún documento tiene todas las palabras; se muestran los que tienen "
                   "más de ellas.")
MAX_PER_PAGE = 100


def _regional_loader(services: Services) -> Callable[[], RegionalUnits]:
    @cache
    def load() -> RegionalUnits:
        with session_scope(services.sessions) as session:
            return [(r.code, r.name, r.city) for r in session.scalars(
                select(RegionalUnit).order_by(RegionalUnit.code))]
    return load


def _check_paging(page: int, per_page: int, sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(f"Orden «{sort}» desconocido: use {' o '.join(SORTS)}.")
    if page < 1:
        raise QueryError("La página debe ser 1 o mayor.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"Los resultados por página deben estar entre 1 y {MAX_PER_PAGE}.")


def search(services: Services, text: str, *, page: int = 1, per_page: int = 20,
           sort: str = "relevancia", filters: Mapping[str, Any] | None = None,
           fuzzy: bool = False, boxes: bool = True) -> SearchResults:
    """Search the archive.

    ``filters`` use the query aliases as keys (``{"tipo": "contrato", "anio": 2023,
    "regional": ["CEN", "SUR"]}``); ``fuzzy`` lets words match one OCR slip away;
    ``boxes=False`` skips reading word boxes from storage (faster result lists).
    Raises ``QueryError`` (Spanish message) for a malformed query and
    ``IndexUnavailable`` when the index must be rebuilt first.
    """
    _check_paging(page, per_page, sort)
    units = _regional_loader(services)
    parsed = parse_query(text, regional_units=units)
    extra = filter_clauses(filters, regional_units=units)
    base: dict[str, Any] = dict(query=text, page=page, per_page=per_page, sort=sort)
    if parsed.exact is not None and not fuzzy:
        found = _search_exact(services, parsed.exact, extra, units, boxes, base)
        # A bare number nobody has as NIS, cédula or RUC may still be written in some page.
        if found.total or parsed.exact.kind != "numero":
            return found
    parts = whoosh_query(parsed.text, parsed.clauses + extra, fuzzy=fuzzy)
    if parts is None:
        return SearchResults(mode=MODE_EMPTY, total=0, message="Escriba algo para buscar.", **base)
    found = _search_index(services, parts, units, boxes, base)
    if found.total or not can_relax(parsed.text):
        return found
    # No page has every word (often one of them was misread by the OCR): show the pages
    # with most of them, and say so. Filters and exclusions still apply in full.
    relaxed = whoosh_query(parsed.text, parsed.clauses + extra, fuzzy=fuzzy, any_word=True)
    assert relaxed is not None
    found = _search_index(services, relaxed, units, boxes, base)
    if found.total:
        found.message = RELAXED_MESSAGE
    return found


def _search_exact(services: Services, req: ExactRequest, clauses: list[Clause],
                  units: Callable[[], RegionalUnits], boxes: bool,
                  base: dict[str, Any]) -> SearchResults:
    with session_scope(services.sessions) as session:
        docs = exact.lookup(session, req, clauses)
    facets = count_facets(((d.doc_type, d.regional, exact.effective_day(d) // 10000) for d in docs),
                          _names(units))
    page, per_page = base["page"], base["per_page"]
    chosen = docs[(page - 1) * per_page: page * per_page]
    value = req.value
    if req.kind == "archive_number":
        terms = HitTerms()
    else:
        terms = HitTerms(exact={value.replace("-", "")})
    ranked: list[Ranked] = [(d.id, None, None) for d in chosen]
    hits = load_hits(services, ranked, terms, boxes=boxes)
    # Always newest first: relevance means nothing when every document matches exactly.
    return SearchResults(mode=MODE_EXACT, total=len(docs), hits=hits, facets=facets,
                         message=exact.describe(req), **{**base, "sort": "fecha"})


def _names(units: Callable[[], RegionalUnits]) -> dict[str, str]:
    return {code: name for code, name, _ in units()}


class Match(NamedTuple):
    """One matching document: its best page and what sorting and facets need."""

    document_id: int
    score: float
    page: int
    day: int  # yyyymmdd
    doc_type: str
    regions: list[str]


def _match(services: Services, parts: QueryParts) -> tuple[list[Match], HitTerms]:
    """Run the query and group its pages by document (columns only: no stored fields read)."""
    # Kept per thread for the next query (see search.index.cached_searcher): not closed here.
    searcher = search_index.cached_searcher(services.settings.index_dir)
    if searcher.doc_count() == 0:  # nothing indexed yet: an empty reader has no columns
        return [], HitTerms()
    results = searcher.search(parts.positive, limit=None)
    reader = searcher.reader()
    doc_col = reader.column_reader("document_id")
    excluded = set() if parts.negative is None else \
        {doc_col[n] for n in searcher.docs_for_query(parts.negative)}
    page_col = reader.column_reader("page")
    date_col = reader.column_reader("date")
    type_col = reader.column_reader("doc_type")
    region_col = reader.column_reader("regional_codes")
    best: dict[int, tuple[float, int]] = {}  # document -> (score, docnum of its best page)
    for score, docnum in results.top_n:
        doc_id = doc_col[docnum]
        # top_n is sorted by score: a document's first page is its best one
        if doc_id not in best and doc_id not in excluded:
            best[doc_id] = (score, docnum)
    rows = [Match(doc_id, score, int(page_col[n]), int(date_col[n] or 0), type_col[n],
                  _codes(region_col[n])) for doc_id, (score, n) in best.items()]
    return rows, terms_of(positive_part(parts.positive), reader)


def _search_index(services: Services, parts: QueryParts, units: Callable[[], RegionalUnits],
                  boxes: bool, base: dict[str, Any]) -> SearchResults:
    page, per_page, sort = base["page"], base["per_page"], base["sort"]
    for attempt in (1, 2):
        try:
            rows, terms = _match(services, parts)
            break
        except search_index.IndexUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - unreadable segment files and the like
            search_index.forget_searcher(services.settings.index_dir)
            if attempt == 1:  # a reader racing the writer's clean-up: once more is enough
                continue
            log.exception("búsqueda fallida")
            raise search_index.IndexUnavailable(
                f"{search_index.STATE_MESSAGES[search_index.IndexState.CORRUPT]} ({exc}); "
                "ejecute «archivo reindex».") from exc
    facets = count_facets(((r.doc_type, r.regions, r.day // 10000 or None) for r in rows),
                          _names(units))
    if sort == "fecha":
        rows.sort(key=lambda r: (r.day, r.score, r.document_id), reverse=True)
    else:
        rows.sort(key=lambda r: (r.score, r.day, r.document_id), reverse=True)
    chosen = rows[(page - 1) * per_page: page * per_page]
    hits = load_hits(services, [(r.document_id, r.score, r.page) for r in chosen], terms,
                     boxes=boxes)
    return SearchResults(mode=MODE_TEXT, total=len(rows), hits=hits, facets=facets, **base)


def _codes(raw: object) -> list[str]:
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw or "")
    return [c for c in text.split(",") if c]
