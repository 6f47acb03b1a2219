"""The search page: a word on a real ingested scan, identifiers, filters, facets, errors, XSS."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape

import pytest
from sqlalchemy import select

from archive.db import session_scope
from archive.enums import DocumentType
from archive.models import Document, Page
from search.indexer import index_pending
from tests.search_support import add_document, add_supply
from tests.test_web_document_page import HIT_WORD, WebArchive, build_archive, text_of

SEARCH = "/buscar"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebArchive]:
    arch = build_archive(tmp_path_factory.mktemp("web_busqueda"))
    add_supply(arch.svc, "3603408", "CEN")
    for year in range(2001, 2024):  # 23 constancias: two result pages of 20
        add_document(arch.svc, [f"Constancia de pago del año {year}"], nis=["3603408"],
                     doc_type=DocumentType.CERTIFICADO_ESTADO_CUENTA,
                     document_date=dt.date(year, 6, 1))
    add_document(arch.svc, ["Reclamo: constancia de heladera dañada"], nis=["3603408"],
                 doc_type=DocumentType.RECLAMO_ELECTRODOMESTICO,
                 document_date=dt.date(2023, 2, 1))
    index_pending(arch.svc)
    yield arch
    arch.svc.dispose()


def hrefs(body: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', body)]


def result_numbers(body: str) -> list[str]:
    return re.findall(r'<h3><a href="[^"]+">([A-Z]+-\d{4}-\d{6})</a>', body)


def test_a_word_on_the_scan_is_found_with_snippet_thumbnail_and_link(archive: WebArchive) -> None:
    res = archive.get("consulta", f"{SEARCH}?q={HIT_WORD}")
    assert res.status_code == 200
    body = text_of(res)
    assert result_numbers(body) == [archive.number]
    assert re.search(rf"<mark>{HIT_WORD}</mark>", body, re.I)  # the snippet, highlighted
    assert f"/documentos/{archive.doc_id}/paginas/2/miniatura" in body  # best page's thumbnail
    assert "Contrato de suministro" in body and archive.nis in body and "Listo" in body
    link = f"/documentos/{archive.doc_id}?pagina=2&q={HIT_WORD}"
    assert link in hrefs(body)
    # the link opens the viewer at that page with the hit marked
    opened = text_of(archive.get("consulta", link))
    assert "Página 2 de 2" in opened and 'data-cajas=\'[{"alto"' in opened
    thumb = archive.get("consulta", f"/documentos/{archive.doc_id}/paginas/2/miniatura")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_every_reader_role_may_search_and_regional_may_not(archive: WebArchive) -> None:
    for role in ("consulta", "archivista", "despacho", "admin"):
        assert archive.get(role, f"{SEARCH}?q={HIT_WORD}").status_code == 200
    assert archive.get("regional", SEARCH).status_code == 403


def test_empty_search_shows_the_form_and_help(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", SEARCH))
    assert 'name="q"' in body and "Cómo buscar" in body and "resultado" not in body
    assert 'name="tipo"' in body and "Regional Central" in body  # filters with regional units


def test_nis_is_answered_from_the_database_newest_first(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"{SEARCH}?q={archive.nis}"))
    assert result_numbers(body) == [archive.number]
    assert "NIS, cédula o RUC" in body  # the exact-lookup message
    # with the NIS as query the viewer link carries it, so the number is marked on the page
    assert f"/documentos/{archive.doc_id}?pagina=1&q={archive.nis}" in hrefs(body)


def test_an_archive_number_opens_the_document(archive: WebArchive) -> None:
    res = archive.get("consulta", f"{SEARCH}?q={archive.number.lower()}")
    assert res.status_code == 302
    assert res.headers["Location"].startswith(f"/documentos/{archive.doc_id}")


def test_facets_are_links_that_filter(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"{SEARCH}?q=constancia"))
    assert "24 documentos" in body
    links = hrefs(body)
    reclamo = next(h for h in links if "tipo=reclamo_electrodomestico" in h)
    assert "q=constancia" in reclamo
    assert any("regional=CEN" in h for h in links)  # the supply's regional unit
    year = next(h for h in links if "desde=2023" in h and "hasta=2023" in h)
    narrowed = text_of(archive.get("consulta", reclamo))
    assert "1 documento." in narrowed and "Tipo: Reclamo por electrodoméstico dañado" in narrowed
    assert "<mark>constancia</mark>" in narrowed
    assert "2 documentos" in text_of(archive.get("consulta", year))
    # the active filter can be removed again
    remove = next(h for h in hrefs(narrowed) if "tipo=" not in h and "q=constancia" in h
                  and "pagina" not in h and h.startswith(SEARCH))
    assert "24 documentos" in text_of(archive.get("consulta", remove))


def test_date_range_and_sort_by_date(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"{SEARCH}?q=constancia&desde=2010&hasta=31/12/2012"))
    assert "3 documentos" in body
    by_date = text_of(archive.get("consulta", f"{SEARCH}?q=pago&orden=fecha"))
    years = [int(y) for y in re.findall(r"fecha \d\d/\d\d/(\d{4})", by_date)]
    assert years == sorted(years, reverse=True) and years[0] == 2023


def test_pagination(archive: WebArchive) -> None:
    first = text_of(archive.get("consulta", f"{SEARCH}?q=constancia&orden=fecha"))
    assert "24 documentos · página 1 de 2" in first and len(result_numbers(first)) == 20
    nxt = next(h for h in hrefs(first) if "pagina=2" in h)
    second = text_of(archive.get("consulta", nxt))
    assert "página 2 de 2" in second and len(result_numbers(second)) == 4
    assert not set(result_numbers(first)) & set(result_numbers(second))
    assert 'rel="prev"' in second


@pytest.mark.parametrize("query, message", [
    ('"robo de medidor', "Las comillas no están cerradas"),
    ("tpo:contrato", "Campo «tpo» desconocido"),
    ("nis:12ab", "no es un NIS válido"),
])
def test_bad_query_shows_its_spanish_message(archive: WebArchive, query: str, message: str) -> None:
    res = archive.client("consulta")[0].get(SEARCH, query_string={"q": query})
    assert res.status_code == 200
    assert message in text_of(res)
    assert 'class="aviso error"' in text_of(res)


def test_bad_filters_and_paging_are_explained_too(archive: WebArchive) -> None:
    client = archive.client("consulta")[0]
    res = client.get(SEARCH, query_string={"q": "constancia", "desde": "2023-13"})
    assert res.status_code == 200 and "no es una fecha válida" in text_of(res)
    res = client.get(SEARCH, query_string={"q": "constancia", "regional": "atlantida"})
    assert res.status_code == 200 and "no es una unidad regional" in text_of(res)
    for page in ("x", "0", "-3"):  # a hand-edited URL falls back to the defaults
        res = client.get(SEARCH, query_string={"q": "constancia", "pagina": page, "orden": "raro"})
        assert res.status_code == 200 and "24 documentos · página 1 de 2" in text_of(res)


def test_filters_alone_list_documents(archive: WebArchive) -> None:
    body = text_of(archive.get("consulta", f"{SEARCH}?tipo=contrato"))
    assert result_numbers(body) == [archive.number]


def test_script_in_page_text_is_escaped_in_snippets(archive: WebArchive) -> None:
    doc_id = add_document(archive.svc, ["Pagina limpia"])
    with session_scope(archive.svc.sessions) as s:
        row = s.scalar(select(Page).where(Page.document_id == doc_id))
        row.text = "Zapallo <script>alert(1)</script> & <b>negrita</b>"  # type: ignore[union-attr]
        doc = s.get(Document, doc_id)
        doc.title = "<i>título</i>"  # type: ignore[union-attr]
        doc.index_due = True  # type: ignore[union-attr]
    index_pending(archive.svc)
    body = text_of(archive.get("consulta", f"{SEARCH}?q=zapallo"))
    assert ("<mark>Zapallo</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
            "&lt;b&gt;negrita") in body
    assert "<script>alert" not in body and "<b>negrita" not in body and "<i>título" not in body
    assert "&lt;i&gt;título&lt;/i&gt;" in body
    # the query itself echoed back in the box is escaped as well
    echoed = text_of(archive.client("consulta")[0].get(
        SEARCH, query_string={"q": '"><script>alert(3)</script>'}))
    assert "<script>alert(3)" not in echoed and "&lt;script&gt;alert(3)" in echoed
