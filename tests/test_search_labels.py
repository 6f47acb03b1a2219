"""Identifiers typed the way clerks write them: a label, a separator and the number.

"NIS 1234567" used to read as archive number NIS-1234-000567 (any three letters
passed for the archive's prefix) and "NIS: 1234567" as a filter without a value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from archive.enums import DocumentType
from archive.services import Services
from search.identifiers import archive_number
from search.indexer import index_pending
from search.parse import QueryError, parse_query
from search.query import search
from tests.search_support import add_document, add_supply, numbers

T = DocumentType

# The number each kind is typed with, and what the search must look for.
TYPED = {
    "nis": ("1234567", "1234567"),
    "numero": ("1234567", "1234567"),
    "cedula": ("3.603.408", "3603408"),
    "ruc": ("80012345-6", "80012345-6"),
    "expediente": ("123/2024", "123/2024"),
    "ot": ("2023-004512", "2023-004512"),
}
# Labels clerks write before a number, by the kind of identifier they name.
LABELS = {
    "nis": ["NIS", "nis", "Nis", "N.I.S.", "suministro", "Suministro", "Suministro N°",
            "Suministro Nº", "Suministro Nro.", "N° de suministro", "Nro. de NIS"],
    "numero": ["N°", "Nº", "Nro.", "Nro", "nro", "N.", "No.", "Núm.", "Número"],
    "cedula": ["cédula", "cedula", "Cédula de identidad", "C.I.", "CI", "ci", "C.I.N°",
               "C.I. N°", "C.I.C."],
    "ruc": ["RUC", "ruc", "R.U.C.", "RUC N°"],
    "expediente": ["expediente", "Expediente", "Expte.", "expte", "Exp.", "Expediente N°"],
    "ot": ["OT", "ot", "O.T.", "orden de trabajo", "Orden de Trabajo", "ORDEN DE TRABAJO N°",
           "OT Nro."],
}
SEPARATORS = [" ", ":", ": ", "-", ".", " N° ", ""]


def _typed_forms() -> list[tuple[str, str, str]]:
    """(query, kind, canonical value) for every label and separator that reads naturally."""
    forms = []
    for kind, labels in LABELS.items():
        typed, value = TYPED[kind]
        for label in labels:
            for sep in SEPARATORS:
                if sep == "." and label.endswith("."):
                    continue  # "Nro..1234567"
                if sep == " N° " and (kind == "numero" or label[-1] in "°º." or "N" in label[1:]):
                    continue  # "N° N° 1234567", "Suministro N° N° 1234567"
                forms.append((f"{label}{sep}{typed}", kind, value))
    return forms


def identified(text: str) -> tuple[str, str] | None:
    """The identifier a query asks for: its kind and canonical value, or None."""
    parsed = parse_query(text)
    if parsed.exact is not None:
        return parsed.exact.kind, parsed.exact.value
    if len(parsed.clauses) == 1 and not parsed.text:
        clause = parsed.clauses[0]
        return clause.field, clause.values[0]
    return None


@pytest.mark.parametrize("text, kind, value", _typed_forms())
def test_every_label_and_separator_names_its_identifier(text: str, kind: str, value: str) -> None:
    assert identified(text) == (kind, value)


@pytest.mark.parametrize("text, kind, value", [
    ("NIS 4.992.383", "nis", "4992383"),
    ("NIS N° 4992383", "nis", "4992383"),
    ("NIS N°: 4992383", "nis", "4992383"),
    ("NIS - 4992383", "nis", "4992383"),
    ("NIS 4992383.", "nis", "4992383"),
    ("C.I.N°3603408", "cedula", "3603408"),
    ("RUC 80012345", "ruc", "80012345-"),  # any check digit, as ruc:80012345
    ("Expte. N° 0123/24", "expediente", "123/2024"),
    ("OT N° 2024-1234", "ot", "2024-001234"),
    ("N° ARC-2024-000123", "archive_number", "ARC-2024-000123"),
    ("arc-2024-123", "archive_number", "ARC-2024-000123"),
])
def test_labelled_values_take_their_canonical_form(text: str, kind: str, value: str) -> None:
    assert identified(text) == (kind, value)


@pytest.mark.parametrize("text", ["NIS 1234567", "nis 1234567", "XYZ 1234567", "ABC-1234-567",
                                  "ENV 2024 000123", "OTR-2024-000001"])
def test_only_the_archive_prefix_makes_an_archive_number(text: str) -> None:
    assert archive_number(text) is None
    got = identified(text)
    assert got is None or got[0] != "archive_number"


def test_labels_in_a_longer_query_become_filters() -> None:
    parsed = parse_query("heladera NIS 1234567 capiata")
    assert parsed.text == "heladera capiata" and parsed.exact is None
    assert [(c.field, c.values) for c in parsed.clauses] == [("nis", ["1234567"])]
    negated = parse_query("robo -C.I. 3.603.408")
    assert [(c.field, c.values, c.negate) for c in negated.clauses] == [
        ("cedula", ["3603408"], True)]
    both = parse_query("NIS 1234567 OT 2023-004512")
    assert [(c.field, c.values) for c in both.clauses] == [("nis", ["1234567"]),
                                                          ("ot", ["2023-004512"])]


@pytest.mark.parametrize("text, words", [
    ('"NIS 1234567"', '"NIS 1234567"'),  # a phrase is left as written
    ("otro 12345", "otro 12345"),  # a word that starts like a label
    ("nisa 1234567", "nisa 1234567"),
    ("ot 5 heladeras", "ot 5 heladeras"),  # "5" is no work order: words, as before
    ("ci 2023", "ci 2023"),  # nor "2023" a cédula
    ("hora:15 medidor", "hora:15 medidor"),
    ("XYZ 1234567", "XYZ 1234567"),
])
def test_what_is_not_a_labelled_identifier_stays_text(text: str, words: str) -> None:
    parsed = parse_query(text)
    assert parsed.clauses == [] and parsed.text == words


def test_existing_alias_syntax_is_unchanged() -> None:
    assert [c.values for c in parse_query("nis:4992383,1234567").clauses] == [["4992383",
                                                                               "1234567"]]
    assert identified("numero:ARC-2024-000123") == ("archive_number", "ARC-2024-000123")
    assert identified("nro:arc-2024-5") == ("archive_number", "ARC-2024-000005")
    assert identified("1234567") == ("numero", "1234567")
    assert identified("nro:1234567") == ("numero", "1234567")  # was «no es un número de archivo»
    with pytest.raises(QueryError, match="Falta el valor después de «nis:»"):
        parse_query("heladera nis:")


def test_a_wrong_value_after_a_colon_says_why() -> None:
    with pytest.raises(QueryError, match="«123» no es un NIS válido"):
        parse_query("NIS: 123")
    with pytest.raises(QueryError, match="no es un número de cédula válido"):
        parse_query("C.I.: 12")


# --------------------------------------------------------------------------- end to end

@dataclass
class Archive:
    svc: Services
    ids: dict[str, int]
    numbers: dict[str, str]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    from sqlalchemy import select

    from archive.db import session_scope
    from archive.models import Document
    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    svc = make_services(tmp_path_factory.mktemp("etiquetas") / "var")
    initialize(svc)
    add_supply(svc, "1234567", "CEN")
    ids = {
        "contrato": add_document(svc, [
            "Contrato de suministro NIS 1234567. Titular con C.I. N° 3.603.408, "
            "RUC 80012345-6."], nis=["1234567"], doc_type=T.CONTRATO,
            document_date=dt.date(2023, 1, 10),
            identifiers=[("cedula", "3603408"), ("ruc", "80012345-6")]),
        "orden": add_document(svc, [
            "ORDEN DE TRABAJO N° 2023-004512. Expediente N° 123/2024. Cambio de medidor."],
            doc_type=T.ORDEN_TRABAJO, document_date=dt.date(2023, 5, 2),
            identifiers=[("ot", "2023-004512"), ("expediente", "123/2024")]),
        # The number is on the page but linked to nothing (read without its label).
        "nota": add_document(svc, ["Nota del titular sobre el número 7654321 y su medidor."],
                             doc_type=T.OTRO, document_date=dt.date(2022, 2, 2)),
        "otro": add_document(svc, ["Croquis de la conexión de un vecino."], doc_type=T.CROQUIS,
                             document_date=dt.date(2021, 8, 8)),
    }
    assert index_pending(svc) == len(ids)
    with session_scope(svc.sessions) as s:
        nums = dict(s.execute(select(Document.id, Document.archive_number)).all())
    yield Archive(svc, ids, {k: nums[v] for k, v in ids.items()})
    svc.dispose()


def found(a: Archive, text: str) -> list[str]:
    names = {v: k for k, v in a.numbers.items()}
    return [names[n] for n in numbers(search(a.svc, text))]


@pytest.mark.parametrize("text, bare, expected", [
    ("NIS 1234567", "1234567", ["contrato"]),
    ("nis 1234567", "1234567", ["contrato"]),
    ("NIS: 1234567", "1234567", ["contrato"]),
    ("NIS-1234567", "1234567", ["contrato"]),
    ("Suministro N° 1234567", "1234567", ["contrato"]),
    ("N° 1234567", "1234567", ["contrato"]),
    ("Nro. 1234567", "1234567", ["contrato"]),
    ("C.I. N° 3.603.408", "3.603.408", ["contrato"]),
    ("cédula 3603408", "3603408", ["contrato"]),
    ("RUC 80012345-6", "80012345-6", ["contrato"]),
    ("RUC: 80012345", "80012345", ["contrato"]),
    ("Expte. 123/2024", "123/2024", ["orden"]),
    ("OT 2023-004512", "2023-004512", ["orden"]),
    ("orden de trabajo N° 2023-004512", "2023-004512", ["orden"]),
    ("NIS 7654321", "7654321", ["nota"]),  # on the page, linked to nothing: found in the text
])
def test_a_labelled_identifier_finds_what_the_bare_one_finds(archive: Archive, text: str,
                                                            bare: str,
                                                            expected: list[str]) -> None:
    assert found(archive, text) == expected
    assert found(archive, bare) == expected


def test_exact_answers_say_what_was_looked_for(archive: Archive) -> None:
    res = search(archive.svc, "NIS 1234567")
    assert res.mode == "exacto" and "NIS 1234567" in res.message
    assert "cédula 3603408" in search(archive.svc, "C.I. 3603408").message
    unlinked = search(archive.svc, "NIS: 7654321")
    assert unlinked.mode == "texto" and "Ningún documento está vinculado al NIS 7654321" in \
        unlinked.message
    assert search(archive.svc, "NIS 7777777").total == 0  # nowhere at all


def test_labelled_identifier_with_words_narrows_the_text_search(archive: Archive) -> None:
    assert found(archive, "medidor OT 2023-004512") == ["orden"]
    assert found(archive, "medidor -OT 2023-004512") == ["nota"]
    assert found(archive, "contrato NIS 1234567") == ["contrato"]


def test_api_search_reads_labels(tmp_path: Path) -> None:
    """The API answers a labelled NIS like the box does (the web and CLI share search())."""
    from tests.api_support import API, make_api_archive

    api = make_api_archive(tmp_path)
    svc = api.services
    add_supply(svc, "1234567", "CEN")
    doc_id = add_document(svc, ["Contrato de suministro NIS 1234567."], nis=["1234567"])
    index_pending(svc)
    try:
        res = api.client().get(f"{API}/search?q={quote('NIS: 1234567')}",
                               headers=api.headers("consulta"))
        assert res.status_code == 200, res.get_data(as_text=True)
        body = res.get_json()
        assert body["modo"] == "exacto" and [h["documento_id"] for h in body["resultados"]] == [
            doc_id]
    finally:
        svc.dispose()
