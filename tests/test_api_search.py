"""``GET /api/v1/search``: filters, paging, exact identifiers and Spanish 400s."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import pytest

from archive.enums import DocumentType as T
from search.index import IndexUnavailable
from search.tasks import request_indexing
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.search_support import add_document, add_supply


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("api_busqueda"))
    svc = archive.services
    add_supply(svc, "3603408", "CEN")
    add_supply(svc, "1234567", "SUR")
    archive.ids = {  # type: ignore[attr-defined]
        "heladera": add_document(svc, ["Reclamo por heladeras dañadas en Capiatá."],
                                 nis=["3603408"], doc_type=T.RECLAMO_ELECTRODOMESTICO,
                                 document_date=dt.date(2021, 3, 5), with_words=True),
        "contrato": add_document(svc, ["Contrato de suministro de energía eléctrica."],
                                 nis=["1234567"], doc_type=T.CONTRATO,
                                 document_date=dt.date(2023, 7, 1)),
        "contrato2": add_document(svc, ["Otro contrato de suministro, anexo."],
                                  nis=["3603408"], doc_type=T.CONTRATO,
                                  document_date=dt.date(2024, 1, 9)),
    }
    request_indexing(svc)  # runs inline: the queue is immediate
    yield archive
    svc.dispose()


def _search(arc: ApiArchive, query: str, role: str = "consulta"):  # type: ignore[no-untyped-def]
    return arc.client().get(f"{API}/search?{query}", headers=arc.headers(role))


def _ids(res) -> list[int]:  # type: ignore[no-untyped-def]
    assert res.status_code == 200, res.get_data(as_text=True)
    return [h["documento_id"] for h in res.get_json()["resultados"]]


def test_text_search_returns_hits_with_links_and_marked_snippets(arc: ApiArchive) -> None:
    res = _search(arc, "q=heladeras&cajas=1")
    body = res.get_json()
    assert body["modo"] == "texto" and body["total"] == 1 and body["consulta"] == "heladeras"
    hit = body["resultados"][0]
    doc_id = arc.ids["heladera"]  # type: ignore[attr-defined]
    assert hit["documento_id"] == doc_id
    assert hit["url"] == f"http://localhost{API}/documents/{doc_id}"
    assert hit["miniatura_url"] == f"http://localhost{API}/documents/{doc_id}/pages/1/thumbnail"
    assert "<mark>heladeras</mark>" in hit["fragmento"]
    assert hit["cajas"] and hit["cajas"][0]["texto"] == "heladeras"
    assert {f["valor"] for f in body["facetas"]["tipo"]} == {"reclamo_electrodomestico"}
    assert _search(arc, "q=heladeras").get_json()["resultados"][0]["cajas"] == []


def test_filters_repeat_or_use_commas(arc: ApiArchive) -> None:
    ids = arc.ids  # type: ignore[attr-defined]
    both = {ids["heladera"], ids["contrato2"]}
    assert set(_ids(_search(arc, "nis=3603408"))) == both
    assert set(_ids(_search(arc, "nis=3603408,1234567"))) == set(ids.values())
    assert set(_ids(_search(arc, "nis=3603408&nis=1234567"))) == set(ids.values())
    assert set(_ids(_search(arc, "q=suministro&tipo=contrato"))) == {ids["contrato"],
                                                                     ids["contrato2"]}
    assert _ids(_search(arc, "q=suministro&regional=SUR")) == [ids["contrato"]]
    assert _ids(_search(arc, "q=contrato&desde=2024")) == [ids["contrato2"]]
    assert set(_ids(_search(arc, "q=suministro&hasta=2023-12"))) == {ids["contrato"]}
    assert _ids(_search(arc, "tipo=contrato&desde=2023-01-01&hasta=2023-12-31")) == [
        ids["contrato"]]


def test_paging_and_order(arc: ApiArchive) -> None:
    ids = arc.ids  # type: ignore[attr-defined]
    first = _search(arc, "nis=3603408,1234567&orden=fecha&por_pagina=2").get_json()
    assert first["total"] == 3 and first["paginas"] == 2 and first["por_pagina"] == 2
    assert [h["documento_id"] for h in first["resultados"]] == [ids["contrato2"], ids["contrato"]]
    second = _search(arc, "nis=3603408,1234567&orden=fecha&por_pagina=2&pagina=2").get_json()
    assert [h["documento_id"] for h in second["resultados"]] == [ids["heladera"]]


def test_a_lone_nis_is_looked_up_exactly(arc: ApiArchive) -> None:
    body = _search(arc, "q=1234567").get_json()
    assert body["modo"] == "exacto" and body["total"] == 1
    assert body["mensaje"]


def test_empty_query_says_so(arc: ApiArchive) -> None:
    body = _search(arc, "q=").get_json()
    assert body["modo"] == "vacio" and body["total"] == 0 and body["mensaje"]


@pytest.mark.parametrize("query, needle", [
    ("q=nis:abc", "no es un NIS válido"),
    ("q=fecha:2023-13", "no es una fecha válida"),
    ("tipo=factura", "no es un tipo de documento"),
    ("regional=NINGUNA", "no es una unidad regional"),
    ("desde=ayer", "no es una fecha válida"),
    ("desde=2020..2021", "fechas sueltas"),
    ("desde=2024&hasta=2020", "termina antes de empezar"),
    ("pagina=0", "«pagina» debe ser 1 o mayor"),
    ("pagina=dos", "número entero"),
    ("por_pagina=101", "entre 1 y 100"),
    ("orden=alfabetico", "Orden «alfabetico» desconocido"),
    ("q=" + "a" * 1001, "1000 caracteres"),
])
def test_bad_queries_are_400_consulta_invalida(arc: ApiArchive, query: str, needle: str) -> None:
    res = _search(arc, query)
    assert res.status_code == 400
    code, msg = error_of(res)
    assert code == "consulta_invalida" and needle in msg


def test_roles(arc: ApiArchive) -> None:
    for role in ("consulta", "archivista", "despacho", "admin"):
        assert _search(arc, "q=contrato", role).status_code == 200
    assert _search(arc, "q=contrato", "regional").status_code == 403
    assert arc.client().get(f"{API}/search?q=contrato").status_code == 401


def test_unusable_index_is_503(arc: ApiArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.api.search as api_search

    def broken(*a: object, **k: object) -> None:
        raise IndexUnavailable("El índice de búsqueda debe reconstruirse; "
                               "ejecute «archivo reindex».")

    monkeypatch.setattr(api_search, "run_search", broken)
    res = _search(arc, "q=contrato")
    assert res.status_code == 503
    code, msg = error_of(res)
    assert code == "indice_no_disponible" and "avise al administrador" in msg
    assert "archivo reindex" not in msg  # the operator's hint goes to the log
