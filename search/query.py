"""``search()``: the one entry point of the web API and the CLI.

A lone identifier goes to the database (``search.exact``); anything else to
the Whoosh index. The query is evaluated over whole posting lists as arrays
(``search.engine``; Whoosh's own matchers only for the few query shapes it
does not model), and the matching pages are grouped by document in one
vectorised pass (``search.grouping``: the best page represents its document),
counted into facets, sorted and cut into result pages. Only the documents of
the requested result page are then read from the database and storage.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import select
from whoosh.collectors import TimeLimitCollector
from whoosh.searching import TimeLimit

from archive.db import read_scope
from archive.models import RegionalUnit
from archive.services import Services

from . import arrays, engine, exact, grouping
from . import index as search_index
from .facets import count_facets, facet_lists
from .grouping import Grouped, Match
from .highlight import HitTerms, terms_of
from .hits import Ranked, load_hits
from .limits import Budget, SearchTimeout, bound_expansions, timeout_message
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
# Seconds one search may run before it stops with a Spanish message (search.limits): a
# reader must not be able to hold a web process, or the CLI, with one query.
SEARCH_SECONDS = 10.0


# Regional units change a few times a year; every search needs their names (aliases and
# facets). Kept this long per archive, so a lookup is not one more query per search.
REGIONAL_TTL_S = 30.0
_REGIONAL_ATTR = "_search_regional_units"  # (read at, units), kept on the Services object


def _regional_loader(services: Services) -> Callable[[], RegionalUnits]:
    @cache
    def load() -> RegionalUnits:
        now = time.monotonic()
        hit: tuple[float, RegionalUnits] | None = vars(services).get(_REGIONAL_ATTR)
        if hit is not None and now - hit[0] < REGIONAL_TTL_S:
            return hit[1]
        with read_scope(services.sessions) as session:
            units = [(code, name, city) for code, name, city in session.execute(
                select(RegionalUnit.code, RegionalUnit.name, RegionalUnit.city)
                .order_by(RegionalUnit.code))]
        vars(services)[_REGIONAL_ATTR] = (now, units)
        return units
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
    budget = Budget(SEARCH_SECONDS)
    units = _regional_loader(services)
    parsed = parse_query(text, regional_units=units)
    extra = filter_clauses(filters, regional_units=units)
    base: dict[str, Any] = dict(query=text, page=page, per_page=per_page, sort=sort)
    words, clauses, note = parsed.text, parsed.clauses, ""
    if parsed.exact is not None and not fuzzy:
        found = _search_exact(services, parsed.exact, extra, units, boxes, base)
        # A number no document has as NIS or cédula may still be written in some page
        # (a NIS without its label is read but not linked): search the pages for it.
        if found.total or parsed.exact.kind not in exact.TEXT_FALLBACK:
            return found
        if parsed.exact.kind != "numero":  # "NIS 1234567": the number, as text
            words, clauses = parsed.exact.value, []
            note = exact.fallback_note(parsed.exact)
    parts = whoosh_query(words, clauses + extra, fuzzy=fuzzy)
    if parts is None:
        return SearchResults(mode=MODE_EMPTY, total=0, message="Escriba algo para buscar.", **base)
    found = _search_index(services, parts, units, boxes, base, budget)
    if not found.total and can_relax(words):
        # No page has every word (often one of them was misread by the OCR): show the pages
        # with most of them, and say so. Filters and exclusions still apply in full.
        relaxed = whoosh_query(words, clauses + extra, fuzzy=fuzzy, any_word=True)
        assert relaxed is not None
        found = _search_index(services, relaxed, units, boxes, base, budget)
        note = RELAXED_MESSAGE
    # What was cut to keep the search bounded is said even when nothing was found.
    shown = [note] if note and found.total else []
    found.message = " ".join(shown + parts.notes + budget.notes)
    return found


def _search_exact(services: Services, req: ExactRequest, clauses: list[Clause],
                  units: Callable[[], RegionalUnits], boxes: bool,
                  base: dict[str, Any]) -> SearchResults:
    page, per_page = base["page"], base["per_page"]
    terms = _exact_terms(req)
    with read_scope(services.sessions) as session:  # one read for the lookup and its rows
        docs = exact.lookup(session, req, clauses)
        chosen = docs[(page - 1) * per_page: page * per_page]
        ranked: list[Ranked] = [(d.id, None, None) for d in chosen]
        hits = load_hits(services, ranked, terms, boxes=boxes, session=session,
                         known={d.id: d for d in chosen})
    facets = count_facets(((d.doc_type, d.regional, exact.effective_day(d) // 10000) for d in docs),
                          _names(units))
    # Always newest first: relevance means nothing when every document matches exactly.
    return SearchResults(mode=MODE_EXACT, total=len(docs), hits=hits, facets=facets,
                         message=exact.describe(req), **{**base, "sort": "fecha"})


def _exact_terms(req: ExactRequest) -> HitTerms:
    """An identifier is marked as written on the page; an archive number is not on it."""
    return HitTerms() if req.kind == "archive_number" else HitTerms(
        exact={req.value.replace("-", "")})


def hit_terms(services: Services, text: str, *, fuzzy: bool = False) -> HitTerms:
    """The terms ``search()`` marks for ``text`` (for the viewer opened from a result).

    Raises ``QueryError`` and ``IndexUnavailable`` like ``search()``.
    """
    parsed = parse_query(text, regional_units=_regional_loader(services))
    if parsed.exact is not None and not fuzzy:
        return _exact_terms(parsed.exact)
    parts = whoosh_query(parsed.text, parsed.clauses, fuzzy=fuzzy)
    if parts is None:
        return HitTerms()
    searcher = search_index.cached_searcher(services.settings.index_dir)
    if searcher.doc_count() == 0:
        return HitTerms()
    positive = positive_part(parts.positive)
    [positive] = bound_expansions([positive], searcher.reader(), Budget(SEARCH_SECONDS))
    return terms_of(positive, searcher.reader())


def _names(units: Callable[[], RegionalUnits]) -> dict[str, str]:
    return {code: name for code, name, _ in units()}


# Whole posting lists as arrays (search.engine) instead of Whoosh's page-at-a-time matchers;
# tests turn it off to compare both paths.
USE_ARRAYS = True

_views: weakref.WeakKeyDictionary[Any, tuple[engine.View, grouping.Columns]] = \
    weakref.WeakKeyDictionary()


def _view(searcher: Any) -> tuple[engine.View, grouping.Columns]:
    """The searcher's arrays, built once per searcher (it is cached until the index changes)."""
    got = _views.get(searcher)
    if got is None:
        v = engine.view(searcher)
        got = _views[searcher] = (v, grouping.columns(v))
    return got


# Words inside most quoted phrases ("robo de medidor", "corte de la energía"): their
# positions are the costliest thing a first phrase search reads (about 30 per page for
# "de", 2 s at 200 000 pages), so a warm-up reads them too, within a quarter of the cache.
PHRASE_GLUE = ("de", "la", "el", "del")
WARM_POSITIONS_BYTES = arrays.POSTINGS_CACHE_BYTES // 4


def _warm_positions(v: engine.View) -> None:
    start = arrays.cached_bytes()
    for word in PHRASE_GLUE:
        for seg, _ in v.leaves:
            if arrays.cached_bytes() - start > WARM_POSITIONS_BYTES:
                return
            arrays.positions(seg, "text_exact", word.encode("utf-8"))


def warm_up(services: Services) -> bool:
    """Read now what a process's first searches would otherwise wait for.

    The per-page columns of every segment (at 200 000 pages the first search
    otherwise costs 1 to 2 s) and the positions of the words most phrases
    contain (``PHRASE_GLUE``) go to the caches shared by all threads
    (``search.arrays``). Returns False when there is nothing to read or the
    index cannot be opened; a search will then say why.
    """
    try:
        searcher = search_index.cached_searcher(services.settings.index_dir)
        if searcher.doc_count() == 0:
            return False
        v, _ = _view(searcher)
        _warm_positions(v)
        return True
    except Exception:  # noqa: BLE001 - a warm-up must never stop the server
        log.warning("no se pudo precargar el índice de búsqueda", exc_info=True)
        return False


def warm_up_in_background(services: Services) -> threading.Thread:
    thread = threading.Thread(target=warm_up, args=(services,), name="archivo-precarga-indice",
                              daemon=True)
    thread.start()
    return thread


def _match(services: Services, parts: QueryParts, *, sort: str, start: int, stop: int,
           budget: Budget | None = None) -> tuple[Grouped, HitTerms]:
    """Run the query, group its pages by document and keep rows ``start:stop``.

    Patterns (``a*``, ``palabra~``) become at most ``limits.MAX_EXPANSIONS`` plain
    terms first, and the work stops with ``SearchTimeout`` once ``budget`` is spent;
    what was cut is added to ``budget.notes``.
    """
    budget = Budget(SEARCH_SECONDS) if budget is None else budget
    # Kept per thread for the next query (see search.index.cached_searcher): not closed here.
    searcher = search_index.cached_searcher(services.settings.index_dir)
    if searcher.doc_count() == 0:  # nothing indexed yet: an empty reader has no columns
        return Grouped(0, [], {}, {}, {}), HitTerms()
    positive, negative = bound_expansions([parts.positive, parts.negative], searcher.reader(),
                                          budget)
    assert positive is not None
    parts = QueryParts(positive, negative, parts.notes)
    terms = terms_of(positive_part(parts.positive), searcher.reader())
    if USE_ARRAYS:
        try:
            return _match_arrays(searcher, parts, sort=sort, start=start, stop=stop,
                                 budget=budget), terms
        except engine.Unsupported as exc:
            log.debug("consulta por el camino de Whoosh: %s", exc)
    return _match_whoosh(searcher, parts, sort=sort, start=start, stop=stop,
                         budget=budget), terms


def _match_arrays(searcher: Any, parts: QueryParts, *, sort: str, start: int, stop: int,
                  budget: Budget) -> Grouped:
    v, cols = _view(searcher)
    hits = engine.evaluate(v, parts.positive, budget.check)
    excluded = None if parts.negative is None else \
        grouping.documents_of(cols, engine.evaluate(v, parts.negative, budget.check).mask)
    budget.check()
    return grouping.group(cols, hits, excluded, sort=sort, start=start, stop=stop)


def _collect(searcher: Any, q: Any, budget: Budget) -> Any:
    """Every match of ``q`` (Whoosh's matchers), stopped with ``SearchTimeout`` past the budget."""
    budget.check()
    # No SIGALRM: searches run in server threads, and a signal handler is the process's own.
    collector = TimeLimitCollector(searcher.collector(limit=None), max(budget.remaining(), 0.0),
                                   use_alarm=False)
    try:
        searcher.search_with_collector(q, collector)
    except TimeLimit:
        raise SearchTimeout(timeout_message(budget.seconds)) from None
    return collector.results()


def _match_whoosh(searcher: Any, parts: QueryParts, *, sort: str, start: int, stop: int,
                  budget: Budget) -> Grouped:
    """Whoosh's own matchers, one page at a time: for queries the engine does not model."""
    results = _collect(searcher, parts.positive, budget)
    reader = searcher.reader()
    doc_col = reader.column_reader("document_id")
    excluded = set() if parts.negative is None else \
        {doc_col[n] for n in _collect(searcher, parts.negative, budget).docs()}
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
    rows = [Match(doc_id, score, int(page_col[n]), int(date_col[n] or 0), _text(type_col[n]),
                  _codes(region_col[n])) for doc_id, (score, n) in best.items()]
    if sort == "fecha":
        rows.sort(key=lambda r: (r.day, r.score, r.document_id), reverse=True)
    else:
        rows.sort(key=lambda r: (r.score, r.day, r.document_id), reverse=True)
    types: Counter[str] = Counter(r.doc_type for r in rows)
    regions: Counter[str] = Counter(c for r in rows for c in r.regions)
    years: Counter[int] = Counter(r.day // 10000 for r in rows if r.day // 10000)
    return Grouped(len(rows), rows[start:stop], dict(types), dict(regions), dict(years))


def _search_index(services: Services, parts: QueryParts, units: Callable[[], RegionalUnits],
                  boxes: bool, base: dict[str, Any], budget: Budget) -> SearchResults:
    page, per_page, sort = base["page"], base["per_page"], base["sort"]
    start, stop = (page - 1) * per_page, page * per_page
    for attempt in (1, 2):
        try:
            found, terms = _match(services, parts, sort=sort, start=start, stop=stop,
                                  budget=budget)
            break
        except (search_index.IndexUnavailable, QueryError):  # a timeout: not a broken index
            raise
        except Exception as exc:  # noqa: BLE001 - unreadable segment files and the like
            search_index.forget_searcher(services.settings.index_dir)
            if attempt == 1:  # a reader racing the writer's clean-up: once more is enough
                continue
            log.exception("búsqueda fallida")
            raise search_index.IndexUnavailable(
                f"{search_index.STATE_MESSAGES[search_index.IndexState.CORRUPT]} ({exc}); "
                "ejecute «archivo reindex».") from exc
    facets = facet_lists(found.types, found.regions, found.years, _names(units))
    hits = load_hits(services, [(r.document_id, r.score, r.page) for r in found.rows], terms,
                     boxes=boxes)
    return SearchResults(mode=MODE_TEXT, total=found.total, hits=hits, facets=facets, **base)


def _text(raw: object) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw or "")


def _codes(raw: object) -> list[str]:
    return sorted({c.upper() for c in _text(raw).split(",") if c})
