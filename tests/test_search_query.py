"""search.query.search on a small corpus of database rows (no OCR), indexed once per module."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from archive.enums import DocumentStatus, DocumentType
from archive.services import Services
from archivo_cli.bootstrap import initialize
from search import index as search_index
from search.indexer import index_pending
from search.parse import QueryError
from search.query import search
from tests.conftest import make_services
from tests.search_support import add_document, add_supply, numbers, words_for

T = DocumentType


@dataclass
class Corpus:
    svc: Services
    ids: dict[str, int]
    numbers: dict[str, str]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    svc = make_services(tmp_path_factory.mktemp("busqueda") / "var")
    initialize(svc)
    add_supply(svc, "3603408", "CEN")
    add_supply(svc, "1234567", "SUR")
    ids = {
        "heladera": add_document(svc, [
            "Reclamo por heladeras dañadas en Capiatá tras un corte de energía.",
            "Anexo: factura de la heladera y presupuesto de reparación.",
        ], nis=["3603408"], doc_type=T.RECLAMO_ELECTRODOMESTICO,
            document_date=dt.date(2021, 3, 5), with_words=True),
        "contrato": add_document(svc, [
            "Contrato de suministro. Titular con C.I. N° 4.567.890, domicilio en Encarnación. "
            "Declara una heladera nueva."], nis=["1234567"], doc_type=T.CONTRATO,
            document_date=dt.date(2023, 1, 10), identifiers=[("cedula", "4567890")]),
        "robo": add_document(svc, [
            "Denuncia de robo de medidor N° 45.678.901 en la calle Palma.",
            "El medidor fue robado durante la noche; la heladera no fue afectada.",
        ], nis=["7654321"], doc_type=T.DENUNCIA_ROBO_MEDIDOR, document_date=dt.date(2019, 7, 1)),
        "script": add_document(svc, ["Texto con <script>alert('x')</script> incrustado & medidor"],
                               doc_type=T.OTRO, document_date=dt.date(2020, 2, 2)),
        "error": add_document(svc, ["Heladera en un documento con error"],
                              status=DocumentStatus.ERROR),
        "baja": add_document(svc, ["Solicitud de baja del suministro"], nis=["3603408"],
                             doc_type=T.ALTA_BAJA, document_date=dt.date(2024, 2, 1)),
        "sin_fecha": add_document(svc, ["Nota sin fecha legible"], nis=["3603408"], doc_type=T.OTRO,
                                  received_at=dt.datetime(2022, 5, 1, 15, tzinfo=dt.timezone.utc)),
    }
    for year in (2018, 2019, 2020, 2021, 2022):
        ids[f"constancia{year}"] = add_document(
            svc, [f"Constancia de pago del año {year}"], doc_type=T.CERTIFICADO_ESTADO_CUENTA,
            document_date=dt.date(year, 6, 1))
    assert index_pending(svc) == len(ids)
    from sqlalchemy import select

    from archive.db import session_scope
    from archive.models import Document

    with session_scope(svc.sessions) as s:
        nums = dict(s.execute(select(Document.id, Document.archive_number)).all())
    yield Corpus(svc, ids, {k: nums[v] for k, v in ids.items()})
    svc.dispose()


def found(c: Corpus, text: str, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    names = {v: k for k, v in c.numbers.items()}
    return [names[n] for n in numbers(search(c.svc, text, **kw))]


def test_spanish_stemming_and_accent_folding(corpus: Corpus) -> None:
    assert set(found(corpus, "heladeras")) == {"heladera", "contrato", "robo"}
    assert found(corpus, "capiata") == ["heladera"]
    assert found(corpus, "CAPIATÁ") == ["heladera"]
    assert found(corpus, "encarnacion") == ["contrato"]


def test_exact_form_ranks_first_and_error_documents_are_not_searchable(corpus: Corpus) -> None:
    assert found(corpus, "heladeras")[0] == "heladera"  # the only page that says "heladeras"
    assert "error" not in found(corpus, "heladera")


def test_numbers_match_with_or_without_thousands_dots(corpus: Corpus) -> None:
    # Not a NIS nor a cédula anywhere: the database has no answer, the text does.
    res = search(corpus.svc, "45678901")
    assert res.mode == "texto" and numbers(res) == [corpus.numbers["robo"]]
    assert found(corpus, "medidor 45.678.901") == ["robo"]
    assert "<mark>45.678.901</mark>" in res.hits[0].snippet


def test_field_aliases(corpus: Corpus) -> None:
    assert found(corpus, "tipo:contrato") == ["contrato"]
    assert found(corpus, "heladera tipo:reclamo") == ["heladera"]
    assert found(corpus, "regional:sur") == ["contrato"]
    assert found(corpus, "regional:CEN", sort="fecha") == ["baja", "sin_fecha", "heladera"]
    assert found(corpus, "nis:7654321 medidor") == ["robo"]
    assert found(corpus, "ci:4.567.890 heladera") == ["contrato"]
    assert set(found(corpus, "heladera -tipo:contrato")) == {"heladera", "robo"}


def test_date_range_uses_document_date_else_reception(corpus: Corpus) -> None:
    got = set(found(corpus, "fecha:2021..2022"))
    assert got == {"heladera", "sin_fecha", "constancia2021", "constancia2022"}
    assert found(corpus, "constancia fecha:..2018") == ["constancia2018"]
    assert found(corpus, "constancia", filters={"anio": 2020}) == ["constancia2020"]


def test_phrase_and_exclusion(corpus: Corpus) -> None:
    assert found(corpus, '"robo de medidor"') == ["robo"]
    assert found(corpus, '"medidor de la calle"') == []
    assert found(corpus, '"heladeras"') == ["heladera"]  # quoted: as written, no stemming
    # "heladera" is on page 2 of the theft report: the whole document is excluded.
    assert found(corpus, "medidor -heladera") == ["script"]
    assert set(found(corpus, "medidor")) == {"robo", "script"}


def test_grouped_by_document_with_best_page(corpus: Corpus) -> None:
    res = search(corpus.svc, "factura heladera")
    assert numbers(res) == [corpus.numbers["heladera"]] and res.total == 1
    assert res.hits[0].page == 2
    res = search(corpus.svc, "medidor robado")
    assert [(h.archive_number, h.page) for h in res.hits] == [(corpus.numbers["robo"], 2)]


def test_snippet_is_escaped_html(corpus: Corpus) -> None:
    hit = search(corpus.svc, "incrustado").hits[0]
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in hit.snippet
    assert "<mark>incrustado</mark> &amp; medidor" in hit.snippet


def test_hit_word_boxes(corpus: Corpus) -> None:
    hit = search(corpus.svc, "capiata").hits[0]
    expected = next(w for w in words_for(
        "Reclamo por heladeras dañadas en Capiatá tras un corte de energía.")
        if w.text == "Capiatá")
    assert [(b.text, b.left, b.top, b.width, b.height) for b in hit.boxes] == \
        [("Capiatá", expected.left, expected.top, expected.width, expected.height)]
    assert search(corpus.svc, "capiata", boxes=False).hits[0].boxes == []


def test_facets_count_documents(corpus: Corpus) -> None:
    res = search(corpus.svc, "heladera")
    tipo = {f.value: f.count for f in res.facets["tipo"]}
    assert tipo == {"reclamo_electrodomestico": 1, "contrato": 1, "denuncia_robo_medidor": 1}
    regional = {(f.value, f.label): f.count for f in res.facets["regional"]}
    assert regional == {("CEN", "Regional Central"): 1, ("SUR", "Regional Sur"): 1}
    years = [(f.value, f.count) for f in res.facets["anio"]]
    assert years == [("2023", 1), ("2021", 1), ("2019", 1)]
    label = next(f.label for f in res.facets["tipo"] if f.value == "contrato")
    assert label == "Contrato de suministro"


def test_pagination_and_sort_by_date(corpus: Corpus) -> None:
    pages = [search(corpus.svc, "constancia", per_page=2, page=n, sort="fecha") for n in (1, 2, 3)]
    assert [p.total for p in pages] == [5, 5, 5] and pages[0].pages == 3
    order = [n for p in pages for n in numbers(p)]
    assert order == [corpus.numbers[f"constancia{y}"] for y in (2022, 2021, 2020, 2019, 2018)]
    assert numbers(search(corpus.svc, "constancia", per_page=2, page=4)) == []
    with pytest.raises(QueryError):
        search(corpus.svc, "constancia", sort="alfabetico")


def test_fuzzy_matching_tolerates_ocr_slips(corpus: Corpus) -> None:
    assert found(corpus, "encarnacjon") == []
    assert found(corpus, "encarnacjon", fuzzy=True) == ["contrato"]
    assert found(corpus, "encarnacjon~") == ["contrato"]


def test_identifiers_are_answered_from_the_database(corpus: Corpus,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def no_index(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("el índice Whoosh no debía consultarse")

    monkeypatch.setattr(search_index, "open_for_search", no_index)
    monkeypatch.setattr(search_index, "cached_searcher", no_index)
    monkeypatch.setattr("whoosh.index.open_dir", no_index)
    res = search(corpus.svc, "3.603.408")
    assert res.mode == "exacto" and "NIS, cédula o RUC" in res.message
    assert found(corpus, "3603408") == ["baja", "sin_fecha", "heladera"]  # newest first
    assert found(corpus, "4.567.890") == ["contrato"]  # a cédula
    assert found(corpus, corpus.numbers["robo"].lower()) == ["robo"]
    hit = search(corpus.svc, "3603408", filters={"tipo": "reclamo_electrodomestico"}).hits[0]
    assert hit.archive_number == corpus.numbers["heladera"] and hit.score is None
    assert search(corpus.svc, "nis:3603408").facets["anio"][0].value == "2024"


def test_results_are_json_serialisable(corpus: Corpus) -> None:
    data = json.loads(json.dumps(search(corpus.svc, "capiata").as_dict()))
    hit = data["resultados"][0]
    assert data["modo"] == "texto" and data["total"] == 1
    assert hit["tipo"] == "reclamo_electrodomestico" and hit["fecha"] == "2021-03-05"
    assert hit["nis"] == ["3603408"] and hit["cajas"][0]["texto"] == "Capiatá"
    assert "<mark>" in hit["fragmento"] and data["facetas"]["regional"][0]["valor"] == "CEN"


def test_empty_query(corpus: Corpus) -> None:
    res = search(corpus.svc, "   ")
    assert res.mode == "vacio" and res.total == 0 and res.message


def test_no_page_with_every_word_falls_back_to_most_words(corpus: Corpus) -> None:
    from search.query import RELAXED_MESSAGE

    # "garrafa" is on no page (as when the OCR misread one of the typed words)
    res = search(corpus.svc, "heladeras capiata garrafa")
    assert res.message == RELAXED_MESSAGE and numbers(res)[0] == corpus.numbers["heladera"]
    assert found(corpus, "heladera garrafa tipo:contrato") == ["contrato"]  # filters still hold
    assert "heladera" not in found(corpus, "heladera garrafa -capiata")  # and exclusions
    assert search(corpus.svc, "garrafa pelota").total == 0
    exact = search(corpus.svc, "heladeras capiata")
    assert exact.message == "" and found(corpus, "heladeras capiata") == ["heladera"]


def test_search_on_a_fresh_archive_finds_nothing_and_does_not_fail(services) -> None:  # type: ignore[no-untyped-def]
    from search.query import search

    for query in ("contrato", "nis:1234567 heladera", "tipo:croquis"):
        found = search(services, query)
        assert found.total == 0 and found.hits == []
