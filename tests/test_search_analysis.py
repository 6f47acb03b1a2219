"""Search building blocks without a database: analysis, query language, snippets, word boxes."""

from __future__ import annotations

import pytest

from archive.words import Word
from search import identifiers
from search.analysis import exact_terms, stems, term_spans
from search.highlight import HitTerms, hit_boxes, snippet
from search.parse import QueryError, date_range, parse_query, whoosh_query

UNITS = [("CEN", "Regional Central", "Asunción"), ("SUR", "Regional Sur", "Encarnación")]


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_query(text, regional_units=lambda: UNITS)


def test_spanish_analysis_folds_accents_and_stems() -> None:
    assert stems("heladeras") == stems("Heladera") == stems("HELADERA")
    assert stems("Capiatá") == stems("capiata")
    assert stems("electrodomésticos") == stems("electrodomestico")
    assert stems("el de la") == set()  # stop words
    assert exact_terms("Capiatá") == {"capiata"}  # exact form: folded, not stemmed
    assert exact_terms("heladeras") != exact_terms("heladera")


def test_numbers_with_separators_are_one_term_and_groups_are_indexed() -> None:
    assert "3603408" in stems("NIS 3.603.408") and "3603408" in exact_terms("3603408")
    assert {"3603408", "3", "603", "408"} <= exact_terms("3.603.408")
    assert {"15032023", "2023"} <= exact_terms("15/03/2023")
    assert "800123456" in exact_terms("RUC 80012345-6")


def test_identifier_canonical_forms() -> None:
    assert identifiers.nis("4.992.383") == "4992383"
    assert identifiers.nis("12") is None and identifiers.nis("abc") is None
    assert identifiers.cedula("3.603.408") == "3603408"
    assert identifiers.ruc("80.012.345-6") == "80012345-6"
    assert identifiers.expediente("0123/25") == "123/2025"
    assert identifiers.ot("2024-1234") == "2024-001234"
    assert identifiers.archive_number("arc-2026-123") == "ARC-2026-000123"


def test_aliases_become_clauses_with_canonical_values() -> None:
    pq = parse('nis:4.992.383 tipo:"Orden de trabajo" regional:encarnacion ci:3.603.408 heladera')
    got = {c.field: c.values for c in pq.clauses}
    assert got == {"nis": ["4992383"], "doc_type": ["orden_trabajo"], "regional": ["sur"],
                   "cedula": ["3603408"]}
    assert pq.text == "heladera" and pq.exact is None
    neg = parse("robo -tipo:contrato,croquis")
    assert neg.clauses[0].negate and neg.clauses[0].values == ["contrato", "croquis"]
    assert parse("expediente:123/2024 ot:2024-55").clauses[1].values == ["2024-000055"]
    assert parse("ruc:80012345").clauses[0].prefix  # any check digit
    assert parse("hora:15").clauses == []  # not an alias: plain text


def test_date_ranges() -> None:
    assert date_range("2020..2024") == (20200101, 20241231)
    assert date_range("2023-02") == (20230201, 20230228)
    assert date_range("15/03/2023") == (20230315, 20230315)
    assert date_range("..2020") == (None, 20201231)
    assert date_range("2021..") == (20210101, None)
    with pytest.raises(QueryError, match="no es una fecha válida"):
        date_range("ayer")
    with pytest.raises(QueryError, match="termina antes de empezar"):
        date_range("2024..2020")


def test_bad_alias_values_give_spanish_errors() -> None:
    with pytest.raises(QueryError, match="no es un NIS válido"):
        parse("nis:12")
    with pytest.raises(QueryError, match="no es un tipo de documento"):
        parse("tipo:factura")
    with pytest.raises(QueryError, match="no es una unidad regional"):
        parse("regional:marte")


def test_lone_identifiers_are_exact_requests() -> None:
    assert parse("3.603.408").exact.kind == "numero"  # type: ignore[union-attr]
    assert parse("nis:3603408").exact.value == "3603408"  # type: ignore[union-attr]
    assert parse("ARC-2026-000007").exact.kind == "archive_number"  # type: ignore[union-attr]
    assert parse("80012345-6").exact.kind == "ruc"  # type: ignore[union-attr]
    assert parse("3603408 heladera").exact is None
    assert parse("nis:3603408 tipo:contrato").exact is None
    assert parse("123").exact is None  # too short for any identifier


def test_exclusions_are_split_off_for_document_level_filtering() -> None:
    parts = whoosh_query("robo -heladera", [])
    assert parts is not None and parts.negative is not None
    assert "heladera" in str(parts.negative) and "heladera" not in str(parts.positive)
    only_neg = whoosh_query("-heladera", [])
    assert only_neg is not None and only_neg.negative is not None


def test_snippet_escapes_everything_but_the_marks() -> None:
    text = "Nota <script>alert('x')</script> sobre heladeras & cocinas"
    html = snippet(text, HitTerms(stems=stems("heladera")))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark>heladeras</mark>" in html and "&amp;" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippet_window_centres_on_hits() -> None:
    text = "relleno " * 100 + "medidor robado " + "relleno " * 100
    html = snippet(text, HitTerms(exact={"medidor"}))
    assert html.startswith("…") and html.endswith("…") and "<mark>medidor</mark>" in html
    assert len(html) < 320


def test_hit_boxes_match_accents_case_and_thousands_dots() -> None:
    words = [Word("CAPIATÁ,", 1, 2, 3, 4, 90.0), Word("3.603.408", 5, 6, 7, 8, 90.0),
             Word("otra", 9, 9, 9, 9, 90.0)]
    terms = HitTerms(stems=stems("capiata"), exact={"3603408"})
    boxes = hit_boxes(words, terms)
    assert [(b.left, b.text) for b in boxes] == [(1, "CAPIATÁ,"), (5, "3.603.408")]


def test_highlighting_terms_equal_the_index_analysis() -> None:
    text = ("Reclamo N° 45.678.901: las HELADERAS dañadas en Capiatá, el 15/03/2023; "
            "RUC 80012345-6, niño y año, más de 1.234,56 Gs. Ñandutí él")
    got: dict[str, set[str]] = {"text": set(), "text_exact": set()}
    for field, term, start, end in term_spans(text):
        got[field].add(term)
        assert start < end and text[start:end].strip()
    assert got["text"] == stems(text)
    assert got["text_exact"] == exact_terms(text)


def test_whole_years_become_year_terms() -> None:
    from search.parse import clause_query, make_clause

    assert str(clause_query(make_clause("fecha", "2015..2016"))) == "(year:2015 OR year:2016)"
    mixed = str(clause_query(make_clause("fecha", "2015-06..2016")))
    assert "year:2016" in mixed and "date:[20150601 TO 20151231]" in mixed
    assert "TO 20161231]" in str(clause_query(make_clause("fecha", "..2016")))


@pytest.mark.parametrize("text, message", [
    ('"robo de medidor', "comillas no están cerradas"),
    ('robo "de medidor" "heladera', "comillas no están cerradas"),
    ("color:rojo heladera", "Campo «color» desconocido"),
    ("fecha:1800..2020", "año 1800 está fuera del rango"),
    ("fecha:2020..9999", "año 9999 está fuera del rango"),
    ("fecha:2024..2020", "termina antes de empezar"),
    ("fecha:31/02/2023", "no es una fecha válida"),
    ("heladera nis:", "Falta el valor después de «nis:»"),  # "nis: 4992383" is a NIS
])
def test_bad_queries_give_a_spanish_message(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_colons_in_text_and_phrases_are_not_fields() -> None:
    assert parse("Obs: ver medidor").clauses == []  # a word ending in a colon is text
    assert parse("hora:15 medidor").clauses == []  # a label with a number is text too
    quoted = parse('"ver nis:123" heladera')
    assert quoted.clauses == [] and '"ver nis:123"' in quoted.text
    typed = parse('tipo:"orden de trabajo" robo')
    assert [c.values for c in typed.clauses] == [["orden_trabajo"]] and typed.text == "robo"


def test_one_pass_page_analysis_equals_whoosh_analyzers() -> None:
    """FastText indexes exactly what TEXT with the analyzer chains would: terms, counts, positions."""
    import random

    from whoosh.fields import TEXT

    from search.analysis import exact_analyzer, spanish_analyzer
    from search.schema import build_schema

    pieces = ["El", "NIS", "4.992.383", "15/15/2023", "Capiatá", "N°", "2DO", "heladeras", "a",
              "de", "la", "ÑANDÚ", "80012345-6", "3,5", "x2", "¿Qué?", "12abc", "Ü", "y", "ÉL",
              "medidor", "robo", "1.000", "0-0", "año", "Año", "q", "ASUNCIÓN.", "dañó,"]
    schema = build_schema()
    reference = {"text": TEXT(analyzer=spanish_analyzer(), phrase=False),
                 "text_exact": TEXT(analyzer=exact_analyzer())}
    rng = random.Random(5)
    for _ in range(200):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        for name, ref in reference.items():
            assert sorted(schema[name].index(text)) == sorted(ref.index(text)), (name, text)


@pytest.mark.parametrize("text", [
    "Suministro NIS 4.992.383, titular Ana.", "nis 4992383", "NIS: 4,992,383 y 15/03/2023",
    "otro número 4.992.38 y 14992383", "sin números", "4992 383 con espacio", ""])
def test_the_quick_number_check_never_hides_a_hit(text: str) -> None:
    """Exact lookups skip analysing pages that cannot hold the number: same spans as without."""
    from search import highlight

    terms = highlight.HitTerms(exact={"4992383"})
    full = sorted((s, e) for f, t, s, e in term_spans(text)
                  if terms.matches(f, t))
    assert highlight.hit_spans(text, terms) == full
    if full:
        assert not highlight._cannot_hold(text, terms)
