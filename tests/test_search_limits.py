"""A reader cannot exhaust the search: fuzzy distance, pattern expansions and time are bounded.

Small inputs and bounds: the tests assert the caps and the Spanish messages, never a timing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from whoosh import query as wq
from whoosh.collectors import TimeLimitCollector
from whoosh.searching import TimeLimit

from archive.enums import DocumentType as T
from search import index as search_index
from search import limits, query
from search.parse import QueryError, max_distance, whoosh_query
from search.query import hit_terms, search
from search.tasks import request_indexing
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.search_support import add_document

# 300 distinct words starting with "prefij" (letters only: one index word each, as written).
MANY = ["prefij" + "".join(t) for t in itertools.islice(
    itertools.product("bcdfgjklmnpqrstvxz", repeat=3), 300)]
FREQUENT = "prefijzzz"  # last in A-to-Z order, on more pages than any other "prefij" word


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("limites_busqueda"))
    svc = archive.services
    archive.ids = {  # type: ignore[attr-defined]
        "muchas": add_document(svc, [" ".join(MANY)], doc_type=T.OTRO,
                               document_date=dt.date(2022, 1, 5)),
        "suministro": add_document(svc, ["Contrato de suministros eléctricos en Luque."],
                                   doc_type=T.CONTRATO, document_date=dt.date(2023, 7, 1)),
        **{f"frecuente{n}": add_document(svc, [f"Nota {FREQUENT} número {n}."], doc_type=T.OTRO,
                                         document_date=dt.date(2021, 1, n + 1))
           for n in range(3)},
    }
    request_indexing(svc)  # runs inline: the queue is immediate
    yield archive
    svc.dispose()


def _fuzzy_terms(q: wq.Query | None) -> list[wq.FuzzyTerm]:
    return [] if q is None else [t for t in q.leaves() if isinstance(t, wq.FuzzyTerm)]


def _api(arc: ApiArchive, params: str):  # type: ignore[no-untyped-def]
    return arc.client().get(f"{API}/search?{params}", headers=arc.headers("consulta"))


# --------------------------------------------------------------------------- fuzzy distance

@pytest.mark.parametrize(("text", "allowed"), [("suministros~9", 2), ("casa~3", 1),
                                               ("heladera~5/2", 2)])
def test_a_fuzzy_distance_above_the_cap_is_cut_and_said(text: str, allowed: int) -> None:
    parts = whoosh_query(text, [])
    assert parts is not None
    fuzzy = _fuzzy_terms(parts.positive)
    assert fuzzy and all(t.maxdist == allowed for t in fuzzy)
    word = text.split("~")[0]
    assert len(parts.notes) == 1
    assert f"«{word}~{allowed}»" in parts.notes[0] and "como máximo" in parts.notes[0]


def test_distances_within_the_cap_are_left_alone_and_not_mentioned() -> None:
    parts = whoosh_query("suministros~2 casa~1", [])
    assert parts is not None and parts.notes == []
    assert sorted({t.maxdist for t in _fuzzy_terms(parts.positive)}) == [1, 2]


def test_the_approximate_mode_obeys_the_same_cap() -> None:
    parts = whoosh_query("suministros casas luque -robo", [], fuzzy=True)
    assert parts is not None
    fuzzy = _fuzzy_terms(parts.positive) + _fuzzy_terms(parts.negative)
    assert fuzzy
    assert all(t.maxdist <= max_distance(t.text) for t in fuzzy)


def test_the_api_search_with_a_huge_distance_is_answered_with_the_cap(arc: ApiArchive) -> None:
    res = _api(arc, "q=suministros~9")
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert "«suministros~2»" in body["mensaje"]
    found = [h["documento_id"] for h in body["resultados"]]
    assert arc.ids["suministro"] in found  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- expansions

def test_a_prefix_past_the_cap_keeps_the_most_frequent_words_and_says_so(arc: ApiArchive) -> None:
    res = search(arc.services, "prefij*", per_page=10)
    assert "«prefij*» abarca demasiadas palabras" in res.message
    assert f"hasta {limits.MAX_EXPANSIONS}" in res.message
    found = {h.document_id for h in res.hits}
    ids = arc.ids  # type: ignore[attr-defined]
    # The most frequent word is kept although it is the last in alphabetical order.
    assert {ids["frecuente0"], ids["frecuente1"], ids["frecuente2"]} <= found


def test_the_query_run_holds_at_most_the_cap_of_index_words(arc: ApiArchive) -> None:
    parts = whoosh_query("prefij* O luque~", [])
    assert parts is not None
    searcher = search_index.cached_searcher(arc.services.settings.index_dir)
    budget = limits.Budget(60)
    [bounded] = limits.bound_expansions([parts.positive], searcher.reader(), budget)
    assert bounded is not None
    assert not [t for t in bounded.leaves() if isinstance(t, limits.EXPANDING)]
    terms = [t for t in bounded.leaves() if isinstance(t, wq.Term)]
    assert len(terms) == limits.MAX_EXPANSIONS  # 600 words asked for (300 per text field)
    assert ("text_exact", FREQUENT) in {(t.fieldname, t.text) for t in terms}
    assert ("text_exact", "luque") in {(t.fieldname, t.text) for t in terms}  # small: kept whole
    assert budget.notes and "«prefij*»" in budget.notes[0]


def test_marking_hits_in_the_viewer_is_bounded_too(arc: ApiArchive) -> None:
    terms = hit_terms(arc.services, "prefij*")
    assert FREQUENT in terms.exact
    assert len(terms.exact) + len(terms.stems) <= limits.MAX_EXPANSIONS


def test_a_small_pattern_is_not_cut(arc: ApiArchive) -> None:
    res = search(arc.services, "prefijzz*")
    assert res.message == "" and res.total == 3


def test_shares_go_first_to_the_small_patterns() -> None:
    assert limits.allocate([5, 1000, 1000], 200) == [5, 97, 98]
    assert limits.allocate([10, 20], 200) == [10, 20]
    assert sum(limits.allocate([300, 300, 300, 300], 200)) == 200


def test_a_pattern_matching_too_many_words_is_refused(arc: ApiArchive,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "SCAN_LIMIT", 250)
    with pytest.raises(QueryError, match="«prefij\\*» abarca más de 250 palabras del índice"):
        search(arc.services, "prefij*")
    res = _api(arc, "q=prefij*")
    assert res.status_code == 400
    code, msg = error_of(res)
    assert code == "consulta_invalida" and "escriba más letras antes del *" in msg


def test_a_leading_wildcard_is_refused_with_a_reason(arc: ApiArchive) -> None:
    res = _api(arc, "q=*ijzzz")
    assert res.status_code == 400
    code, msg = error_of(res)
    assert code == "consulta_invalida" and "empieza con un comodín" in msg


# --------------------------------------------------------------------------- time

def test_a_search_past_its_time_is_a_spanish_error_not_a_500(
        arc: ApiArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "SEARCH_SECONDS", 0.0)
    res = _api(arc, "q=contrato")
    assert res.status_code == 400
    code, msg = error_of(res)
    assert code == "consulta_invalida" and "tardaba demasiado" in msg
    assert "Traceback" not in msg and "TimeLimit" not in msg
    # The identifier lookup in the database is not an index search: it still answers.
    assert _api(arc, "q=ARC-2026-999999").status_code == 200


def test_the_search_page_shows_the_time_message(arc: ApiArchive,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "SEARCH_SECONDS", 0.0)
    client, _ = arc.session_client("consulta")
    res = client.get("/buscar?q=contrato")
    assert res.status_code == 200
    assert "tardaba demasiado" in res.get_data(as_text=True)


def test_whooshs_own_matchers_stop_at_the_budget_too(arc: ApiArchive,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    class Expired(TimeLimitCollector):
        def collect_matches(self) -> None:
            raise TimeLimit

    monkeypatch.setattr(query, "USE_ARRAYS", False)
    monkeypatch.setattr(query, "TimeLimitCollector", Expired)
    with pytest.raises(limits.SearchTimeout, match="tardaba demasiado"):
        search(arc.services, "contrato")
    monkeypatch.setattr(query, "TimeLimitCollector", TimeLimitCollector)
    assert search(arc.services, "contrato").total == 1


def test_words_are_marked_as_written_as_well_as_by_stem(arc: ApiArchive) -> None:
    """Whoosh kept only the first leaf's field: the as-written words went unmarked."""
    terms = hit_terms(arc.services, "suministros luque")
    assert {"suministros", "luque"} <= terms.exact
    assert terms.stems
