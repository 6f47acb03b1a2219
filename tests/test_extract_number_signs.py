"""OCR renderings of the "N°" before a labelled number (archive.nis.NUMBER_SIGNS).

Tesseract reads the degree sign of «ORDEN DE TRABAJO N° 2023-004512» as «N®»
on some scans; the work order was lost because the look-alike table had no ®.
"""

from __future__ import annotations

import pytest

from ingest.extract import (
    extract_all,
    find_cedulas,
    find_expedientes,
    find_nis,
    find_ots,
    find_rucs,
)

# The sign as printed, and what OCR has been seen to return for it.
SIGNS = ["°", "º", "®", "©", "*", '"', "'", "˚", "⁰", "0"]


@pytest.mark.parametrize("sign", SIGNS)
def test_work_order_number_after_any_rendering_of_the_sign(sign: str) -> None:
    assert [c.value for c in find_ots(f"ORDEN DE TRABAJO N{sign} 2023-004512")] == ["2023-004512"]
    assert [c.value for c in find_ots(f"OT N{sign} 2024-1234")] == ["2024-001234"]


@pytest.mark.parametrize("sign", SIGNS)
def test_other_labelled_numbers_after_any_rendering_of_the_sign(sign: str) -> None:
    assert [c.value for c in find_nis(f"Suministro N{sign} 4992383")] == ["4992383"]
    assert [c.value for c in find_nis(f"NIS N{sign} 4992383")] == ["4992383"]
    assert [c.value for c in find_cedulas(f"C.I. N{sign} 3.603.408")] == ["3603408"]
    assert [c.value for c in find_rucs(f"RUC N{sign} 80009735-1")] == ["80009735-1"]
    assert [c.value for c in find_expedientes(f"Expediente N{sign} 1234/2025")] == ["1234/2025"]


def test_the_work_order_of_the_field_report_is_extracted() -> None:
    text = ("ANDE - ORDEN DE TRABAJO N® 2023-004512\n"
            "Suministro N® 4.992.383 · Fecha: 15/03/2023\nCambio de medidor.")
    found = extract_all(text)
    assert [c.value for c in found.ots] == ["2023-004512"]
    assert [c.value for c in found.nis] == ["4992383"]
    ot = found.ots[0]
    assert text[ot.span[0]:ot.span[1]] == "2023-004512" == ot.raw


@pytest.mark.parametrize("text", [
    "OT 123456",  # still no bare "OT" without a sign
    "PILOTO N® 123456",  # a sign after another word is no label
    "Medidor N® 12794159",
    "Marca® 2023-004512",
])
def test_a_look_alike_sign_does_not_invent_a_work_order(text: str) -> None:
    assert find_ots(text) == []


def test_a_zero_is_read_as_the_sign_only_before_a_space() -> None:
    # "N0 " is "N°"; "N01234567" keeps its zero (the number may start with it).
    assert [c.value for c in find_ots("ORDEN DE TRABAJO N0 123456")] == ["123456"]
    assert [c.value for c in find_ots("ORDEN DE TRABAJO N0123456")] == ["0123456"]


def test_folding_keeps_every_sign_one_character_and_readable() -> None:
    from ingest.classify import classify
    from ingest.extract import fold_accents

    text = "OT Nº 123456 · N˚ 2 · N® 3"
    folded = fold_accents(text)
    assert len(folded) == len(text) and folded.startswith("OT No 123456")
    assert "N˚ 2" in folded  # a spacing ring would fold to a blank and lose the sign
    assert classify("ORDEN DE TRABAJO\nOT Nº 123456 cambio de medidor").doc_type == "orden_trabajo"
