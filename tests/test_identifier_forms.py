"""archive.identifiers: one home for what an identifier looks like, shared by ingest, search
and validation, so a form typed, a form read from a page and a form refused agree."""

from __future__ import annotations

import pytest

from archive import identifiers as ids
from archive.errors import ArchivoError
from archive.nis import looks_like_nis, normalize_nis
from ingest.extract import extract_all, find_expedientes, find_nis, find_ots, find_rucs
from search import identifiers as search_ids


@pytest.mark.parametrize(("typed", "expected"), [
    ("1234", None),  # 4 digits: too short
    ("12345", "12345"),  # the shortest allowed
    ("4.992.383", "4992383"),
    ("4 992 383", "4992383"),
    ("123456789012", "123456789012"),  # the longest allowed
    ("1234567890123", None),  # 13 digits: too long
    ("49923A3", None),
])
def test_nis_bounds_agree_between_search_and_validation(typed: str, expected: str | None) -> None:
    assert ids.nis(typed) == expected
    assert search_ids.nis(typed) == expected
    assert looks_like_nis(typed) is (expected is not None)
    if expected is not None:
        assert normalize_nis(typed) == expected


def test_validation_message_names_the_shared_bounds() -> None:
    lo, hi = ids.NIS_DIGITS
    with pytest.raises(ArchivoError, match=f"entre {lo} y {hi} dígitos"):
        normalize_nis("1" * (hi + 1))


@pytest.mark.parametrize(("page", "found"), [
    ("NIS: 12345", []),  # below what OCR text must show to be trusted
    ("NIS: 123456", ["123456"]),
    ("NIS: 1234567890", ["1234567890"]),
    ("NIS: 12345678901", []),  # above it
])
def test_nis_in_text_bounds(page: str, found: list[str]) -> None:
    (lo, hi), (text_lo, text_hi) = ids.NIS_DIGITS, ids.NIS_IN_TEXT_DIGITS
    assert lo < text_lo <= text_hi < hi  # OCR text is trusted within what a person may type
    assert [c.value for c in find_nis(page)] == found


@pytest.mark.parametrize(("typed", "expected"), [
    ("1234", None), ("12345", "12345"), ("3.603.408", "3603408"), ("123456789", None),
])
def test_cedula_bounds(typed: str, expected: str | None) -> None:
    assert ids.cedula(typed) == expected
    found = [c.value for c in extract_all(f"C.I. N° {typed}").cedulas]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(("base", "check"), [
    ("80009735", 1),  # printed on SET's own papers
    ("80012345", 0),  # rest 1 -> 0
    ("0", 0),  # rest 0 -> 0
    ("1", 9),  # 1*2 = 2 -> 11 - 2
    ("10", 8),  # 0*2 + 1*3 = 3 -> 11 - 3
    ("3603408", 8),
    ("12345678901", 5),  # weights cycle back to 2 after 11
])
def test_ruc_check_digit(base: str, check: int) -> None:
    assert ids.ruc_check_digit(base) == check


@pytest.mark.parametrize("bad", ["", "12a4", "١٢٣", "12-3"])
def test_ruc_check_digit_refuses_what_is_no_base(bad: str) -> None:
    with pytest.raises(ValueError):
        ids.ruc_check_digit(bad)


def test_ruc_form_is_shared_and_extraction_verifies_the_check_digit() -> None:
    assert ids.ruc("80.009.735-1") == "80009735-1"
    assert ids.ruc("80009735-7") == "80009735-7"  # typed: a person may look for a wrong one
    assert [c.value for c in find_rucs("RUC: 80.009.735-1")] == ["80009735-1"]
    assert find_rucs("RUC: 80.009.735-7") == []


@pytest.mark.parametrize(("year", "widened"), [
    ("00", 2000), ("25", 2025), ("69", 2069), ("70", 1970), ("99", 1999),
    ("1950", 1950), ("2100", 2100), ("1949", None), ("2101", None), ("0025", None),
])
def test_year_widening(year: str, widened: int | None) -> None:
    assert ids.widen_year(year) == widened


@pytest.mark.parametrize(("typed", "expected"), [
    ("0123/25", "123/2025"), ("123/1999", "123/1999"), ("1.234/70", "1234/1970"),
    ("0/2024", None), ("12/1949", None),
])
def test_expediente_typed_and_read_alike(typed: str, expected: str | None) -> None:
    assert ids.expediente(typed) == expected
    found = [c.value for c in find_expedientes(f"Expediente N° {typed}")]
    assert found == ([expected] if expected else [])


def test_ot_typed_and_read_alike() -> None:
    assert ids.ot("2024-1234") == ids.ot_value("2024", "1234") == "2024-001234"
    assert [c.value for c in find_ots("OT N° 2024-1234")] == ["2024-001234"]
    assert ids.ot("12") is None and ids.ot("123") == "123"


def test_archive_and_dispatch_numbers() -> None:
    assert ids.sequence_number(ids.ARCHIVE_PREFIX, 2026, 123) == "ARC-2026-000123"
    assert ids.sequence_number(ids.DISPATCH_PREFIX, 2026, 7) == "ENV-2026-000007"
    assert ids.archive_number("arc 2026 123") == "ARC-2026-000123"
    assert ids.archive_number("ENV-2026-000123") is None  # only the archive's own prefix


@pytest.mark.parametrize(("text", "folded"), [
    ("Capiatá", "capiata"), ("ÑEMBY", "nemby"), ("Asunción", "asuncion"), ("ﬁ", "fi"),
])
def test_fold_for_comparing_names(text: str, folded: str) -> None:
    assert ids.fold(text) == folded


@pytest.mark.parametrize(("text", "folded"), [
    ("Asunción", "Asuncion"),  # case kept
    ("ﬁn", "ﬁn"),  # a ligature would change offsets: kept
    ("N˚ 1234567", "N˚ 1234567"),  # the ring is a number sign, not a space
    ("Nº", "No"),
])
def test_fold_accents_keeps_offsets(text: str, folded: str) -> None:
    assert ids.fold_accents(text) == folded
    assert len(ids.fold_accents(text)) == len(text)


@pytest.mark.parametrize(("token", "digits", "fixes"), [
    ("4.99O.l83", "4990183", 2), ("S|B", "518", 3), ("1234567", "1234567", 0), ("١٢٣", "", 0),
])
def test_ocr_digits(token: str, digits: str, fixes: int) -> None:
    assert ids.ocr_digits(token) == digits
    assert ids.ocr_fixes(token) == fixes
