"""Identifier and date extraction from document text (no OCR involved)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from ingest.extract import (
    LABELLED_CONFIDENCE,
    UNLABELLED_CONFIDENCE,
    Candidate,
    Extraction,
    digits_only,
    extract_all,
    find_cedulas,
    find_dates,
    find_expedientes,
    find_nis,
    find_ots,
    find_rucs,
    fold_accents,
    normalize_digits,
    ruc_check_digit,
)


def nis_values(text: str, **kw: bool) -> list[str]:
    return [c.value for c in find_nis(text, **kw)]


# --------------------------------------------------------------------------- helpers

def test_fold_accents_keeps_offsets() -> None:
    text = "Cédula N° 1.234.567, Asunción, ÑANDUTÍ"
    folded = fold_accents(text)
    assert len(folded) == len(text)
    assert folded == "Cedula N° 1.234.567, Asuncion, NANDUTI"


def test_digit_helpers() -> None:
    assert digits_only("4.992.383") == "4992383"
    assert digits_only("4 992 383") == "4992383"
    assert normalize_digits("4.99O.l83") == "4990183"
    assert normalize_digits("S|B") == "518"


def test_candidate_is_frozen() -> None:
    c = Candidate("1234567", "nis", 0.95, (0, 7), "1234567")
    with pytest.raises(FrozenInstanceError):
        c.value = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- NIS, labelled

@pytest.mark.parametrize(
    "text",
    [
        "NIS: 4992383",
        "NIS 4992383",
        "nis 4992383",
        "N.I.S. 4992383",
        "N.I.S 4992383",
        "NIS N° 4992383",
        "NIS Nº: 4992383",
        "NIS Nro. 4992383",
        "Nro. NIS 4992383",
        "N° de NIS: 4992383",
        "Suministro N° 4992383",
        "Suministro Nro. 4992383",
        "SUMINISTRO Nº 4992383",
        "N° de suministro 4992383",
        "Nro. de Suministro: 4992383",
        "Número de suministro: 4992383",
        "NÚMERO DE SUMINISTRO 4992383",
        "NIS: 4.992.383",
        "NIS: 4 992 383",
        "NIS:4992383",
        "NIS; 4992383",
        "NIS Ne 4992383",
        "titular del suministro NIS\n4992383, se dirige a usted",
    ],
)
def test_labelled_nis_forms(text: str) -> None:
    found = find_nis(text)
    assert [c.value for c in found] == ["4992383"]
    assert found[0].confidence == LABELLED_CONFIDENCE
    assert found[0].kind == "nis"


def test_span_and_raw_point_at_the_number() -> None:
    text = "Titular: Ana Báez\nNIS: 4.992.383\nTarifa: Social"
    (c,) = find_nis(text)
    assert c.raw == "4.992.383"
    assert text[c.span[0]:c.span[1]] == c.raw


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NIS: 4992O83", "4992083"),
        ("NIS: 49923B3", "4992383"),
        ("NIS: l992383", "1992383"),
        ("NIS: 4992S83", "4992583"),
        ("NIS: 4|92383", "4192383"),
        ("NIS: 4.99o.383", "4990383"),
        ("N1S: 4992383", "4992383"),
        ("NlS 4992383", "4992383"),
    ],
)
def test_ocr_confusions_fixed_in_labelled_context(text: str, value: str) -> None:
    assert nis_values(text) == [value]


def test_ocr_fix_lowers_confidence() -> None:
    (clean,) = find_nis("NIS: 4992383")
    (one,) = find_nis("NIS: 4992O83")
    (two,) = find_nis("NIS: 49S2O83")
    assert clean.confidence > one.confidence > two.confidence >= 0.8


def test_too_many_ocr_letters_rejected() -> None:
    assert find_nis("NIS: 4SOlOB3") == []
    assert find_nis("NIS: Sin dato") == []


def test_lowercase_letters_not_read_as_digits() -> None:
    # "s" and "b" are not confusions Tesseract makes for 5 and 8 in numbers.
    assert find_nis("NIS: 49923b3") == []


def test_ocr_letters_not_fixed_without_label() -> None:
    assert find_nis("Poste 4992O83", include_unlabelled=True) == []


def test_variable_length_labelled_nis() -> None:
    assert nis_values("NIS: 123456") == ["123456"]
    assert nis_values("NIS: 1234567890") == ["1234567890"]
    assert find_nis("NIS: 12345") == []
    assert find_nis("NIS: 12345678901") == []


def test_unusual_length_is_trusted_less() -> None:
    (seven,) = find_nis("NIS: 1234567")
    (nine,) = find_nis("NIS: 123456789")
    assert nine.confidence < seven.confidence


def test_label_inside_a_word_is_not_a_label() -> None:
    assert find_nis("ADMINISTRACION 4992383") == []
    assert find_nis("Dennis 4992383") == []
    assert find_nis("TENIS 4992383") == []


def test_labelled_number_followed_by_another_number() -> None:
    assert nis_values("NIS: 4992383 100 kWh") == ["4992383"]


def test_multiple_nis_in_one_text() -> None:
    text = (
        "Quien suscribe, titular del suministro NIS 7597725, solicita la baja.\n"
        "Se solicita además verificar el suministro vinculado NIS 3254257.\n"
        "Anexo\nNIS: 7597725"
    )
    assert nis_values(text) == ["7597725", "3254257"]


def test_list_after_one_label() -> None:
    found = find_nis("Suministros N° 4992383, 1234567 y 7654321 del mismo titular")
    assert [c.value for c in found] == ["4992383", "1234567", "7654321"]
    assert found[0].confidence > found[1].confidence


def test_dedupe_keeps_best_confidence() -> None:
    found = find_nis("NIS: 4992O83\nNIS: 4992083")
    assert len(found) == 1
    assert found[0].confidence == LABELLED_CONFIDENCE
    assert found[0].raw == "4992083"


def test_weak_suministro_label() -> None:
    (c,) = find_nis("del suministro 4992383 ubicado en Luque")
    assert c.value == "4992383"
    assert c.confidence < LABELLED_CONFIDENCE


# --------------------------------------------------------------------------- NIS, unlabelled

NOT_NIS_TEXT = """EMPRESA NACIONAL DE ENERGÍA ELÉCTRICA
Titular: Hugo Giménez Cáceres
C.I. N°: 1.489.173
CI 3603408
Cédula de Identidad N° 4436942
RUC 80063560-4
Tel.: (021) 4992383
Celular 0981 123456
Deuda total: Gs. 6.861.000
Monto: Gs 1234567
Medidor N° 12794159
Medidor N° 1279415
Expediente N° 1234567/2025
ORDEN DE TRABAJO N° 2006-635069
Fecha: 03/10/2016
Luque, 20 de octubre de 2025
"""


def test_other_numbers_are_never_nis() -> None:
    assert find_nis(NOT_NIS_TEXT) == []
    assert find_nis(NOT_NIS_TEXT, include_unlabelled=True) == []


def test_unlabelled_not_returned_by_default() -> None:
    assert find_nis("se dirige a usted 4992383, a fin de solicitar") == []


def test_unlabelled_seven_digits_low_confidence_when_asked() -> None:
    (c,) = find_nis("se dirige a usted\n4992383, a fin de solicitar", include_unlabelled=True)
    assert c.value == "4992383"
    assert c.confidence == UNLABELLED_CONFIDENCE


def test_unlabelled_rejects_other_shapes() -> None:
    for text in ("1.234.567", "12345678", "123456", "0123456", "4992383 kWh", "₲ 4992383",
                 "CI 4992383", "RUC 4992383-1"):
        assert find_nis(text, include_unlabelled=True) == [], text


def test_labelled_wins_over_unlabelled_copy() -> None:
    found = find_nis("NIS: 4992383\n... 4992383 ...", include_unlabelled=True)
    assert [(c.value, c.confidence) for c in found] == [("4992383", LABELLED_CONFIDENCE)]


# --------------------------------------------------------------------------- cédula

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("C.I. N° 3.603.408", "3603408"),
        ("C.I. N°: 3.603.408", "3603408"),
        ("CI 3603408", "3603408"),
        ("C.I.N° 3603408", "3603408"),
        ("C.I.C. N° 832.358", "832358"),
        ("Cédula de Identidad N° 3.603.408", "3603408"),
        ("CEDULA DE IDENTIDAD CIVIL Nro. 3603408", "3603408"),
        ("con C.I. N° 4.436.942, titular del suministro", "4436942"),
        ("C.I. N° 3.6O3.408", "3603408"),
    ],
)
def test_cedulas(text: str, value: str) -> None:
    assert [c.value for c in find_cedulas(text)] == [value]


def test_cedula_rejections() -> None:
    assert find_cedulas("3.603.408") == []  # no label
    assert find_cedulas("CIUDAD 3603408") == []
    assert find_cedulas("C.I. N° 1234") == []  # too short
    assert find_cedulas("CI 3603408-8") == []  # a RUC-style number, not a bare cédula
    assert find_cedulas("NIS: 3603408") == []


# --------------------------------------------------------------------------- RUC

@pytest.mark.parametrize(
    ("base", "dv"),
    [
        ("80009735", 1),
        ("80012345", 0),  # r == 1 -> 0
        ("80063560", 4),
        ("3603408", 8),
        ("1234567", 9),
        ("800000001", 6),
        ("12345678901", 5),  # weights cycle back to 2 after 11
    ],
)
def test_ruc_check_digit(base: str, dv: int) -> None:
    assert ruc_check_digit(base) == dv


@pytest.mark.parametrize("bad", ["", "12a45", "\uff18\uff10\uff10\uff10"])  # fullwidth digits
def test_ruc_check_digit_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        ruc_check_digit(bad)


@pytest.mark.parametrize(
    ("text", "value", "conf"),
    [
        ("RUC 80063560-4", "80063560-4", 0.95),
        ("R.U.C. N° 80009735-1", "80009735-1", 0.95),
        ("RUC: 80.009.735-1", "80009735-1", 0.95),
        ("RUC 3603408 - 8", "3603408-8", 0.95),
        ("Proveedor 80009735-1 inscripto", "80009735-1", 0.8),
    ],
)
def test_valid_rucs(text: str, value: str, conf: float) -> None:
    (c,) = find_rucs(text)
    assert (c.value, c.kind, c.confidence) == (value, "ruc", conf)


def test_invalid_ruc_rejected_or_flagged() -> None:
    assert find_rucs("RUC 80063560-5") == []
    (c,) = find_rucs("RUC 80063560-5", include_invalid=True)
    assert (c.value, c.kind) == ("80063560-5", "ruc_invalid")
    assert c.confidence < 0.5


def test_ruc_not_confused_with_other_hyphenated_numbers() -> None:
    assert find_rucs("ORDEN DE TRABAJO N° 2006-635069") == []
    assert find_rucs("Fecha 3-10-2016") == []
    assert find_rucs("Tel. 021-123456") == []
    assert find_rucs("12345-4") == []  # bare base too short to trust


# --------------------------------------------------------------------------- expediente and OT

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MESA DE ENTRADA - EXPEDIENTE N° 75882/2025", "75882/2025"),
        ("Expediente N° 1234/2025", "1234/2025"),
        ("Expte. Nro 1234/2025", "1234/2025"),
        ("Expte. N° 1.234/2025", "1234/2025"),
        ("EXPTE 01234 / 2025", "1234/2025"),
        ("Exp. N° 1234/25", "1234/2025"),
        ("expediente nº 77/1999", "77/1999"),
    ],
)
def test_expedientes(text: str, value: str) -> None:
    assert [c.value for c in find_expedientes(text)] == [value]


def test_expediente_rejections() -> None:
    assert find_expedientes("1234/2025") == []  # no label
    assert find_expedientes("Expediente N° 1234/1234") == []  # not a year
    assert find_expedientes("Expediente N° 0/2025") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ORDEN DE TRABAJO N° 2006-635069", "2006-635069"),
        ("O.T. Nro. 2024-001234", "2024-001234"),
        ("OT N° 2024-1234", "2024-001234"),
        ("OT N° 123456", "123456"),
        ("O.T.: 123.456", "123456"),
        ("Orden de Trabajo 2019 - 42", "2019-000042"),
    ],
)
def test_ots(text: str, value: str) -> None:
    assert [c.value for c in find_ots(text)] == [value]


def test_ot_needs_a_real_label() -> None:
    assert find_ots("OT 123456") == []  # bare "OT" without N°/Nro./colon
    assert find_ots("PILOTO N° 123456") == []
    assert find_ots("2024-001234") == []


# --------------------------------------------------------------------------- dates

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Luque, 3 de octubre de 2016", date(2016, 10, 3)),
        ("3 de Octubre del 2016", date(2016, 10, 3)),
        ("03 DE OCTUBRE DE 2016", date(2016, 10, 3)),
        ("1° de mayo de 2020", date(2020, 5, 1)),
        ("14 de setiembre de 2019", date(2019, 9, 14)),
        ("14 de septiembre de 2019", date(2019, 9, 14)),
        ("03/10/2016", date(2016, 10, 3)),
        ("3-10-2016", date(2016, 10, 3)),
        ("03.10.2016", date(2016, 10, 3)),
        ("03/10/16", date(2016, 10, 3)),
        ("29/02/2020", date(2020, 2, 29)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert find_dates(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2020",
        "29/02/2019",
        "31 de abril de 2020",
        "13/13/2020",
        "00/10/2016",
        "03.10.16",  # two-digit year only with slashes
        "C.I. N° 1.489.173",
        "Gs. 6.861.000",
        "octubre de 2016",
        "2006-635069",
    ],
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_dates_in_order_without_repeats() -> None:
    text = "Fecha: 05/04/2007\nVence el 10 de mayo de 2007.\nRecibido 05/04/2007"
    assert find_dates(text) == [date(2007, 4, 5), date(2007, 5, 10)]


# --------------------------------------------------------------------------- extract_all

CONTRACT = """EMPRESA NACIONAL DE ENERGÍA ELÉCTRICA
Regional Central

CONTRATO DE SUMINISTRO DE ENERGÍA ELÉCTRICA EN BAJA TENSIÓN

NIS: 3254257
Titular: Hugo Giménez Cáceres
C.I. N°: 1.489.173
Garantía de consumo: Gs. 449.000
Válido hasta el 31/12/2019.

Encarnación, 13 de abril de 2018
\fAnexo

NIS: 3254257
"""


def test_extract_all_bundles_everything() -> None:
    ext = extract_all(CONTRACT)
    assert isinstance(ext, Extraction)
    assert [c.value for c in ext.nis] == ["3254257"]
    assert [c.value for c in ext.cedulas] == ["1489173"]
    assert ext.rucs == [] and ext.expedientes == [] and ext.ots == []
    assert ext.dates == [date(2019, 12, 31), date(2018, 4, 13)]
    assert ext.document_date == date(2018, 4, 13)  # the dateline, not the first date


def test_document_date_prefers_fecha_label() -> None:
    text = "Vence 01/02/2010\nFecha de emisión: 24 de septiembre de 2006\nLuque, 3 de mayo de 2006"
    assert extract_all(text).document_date == date(2006, 9, 24)


def test_document_date_falls_back_to_first_date() -> None:
    text = "no registra deuda pendiente al 4 de octubre de 2006, ni al 5/10/2006"
    assert extract_all(text).document_date == date(2006, 10, 4)


def test_extract_all_on_empty_text() -> None:
    assert extract_all("") == Extraction()
    assert extract_all("@@## ~~ ||| ..").document_date is None


def test_extract_all_full_letter() -> None:
    text = (
        "ESCRIBANÍA INSFRÁN\nRUC 80063560-4\n\nFernando de la Mora, 12 de octubre de 2025\n\n"
        "Tengo el agrado de dirigirme a ustedes a fin de solicitar un certificado de estado de\n"
        "cuenta del suministro NIS 9598322, a nombre de Carlos Peña, C.I. N° 2.223.735,\n"
        "Expte. N° 512/2025, OT N° 2025-000017. Tel. 0981 555 123.\n"
    )
    ext = extract_all(text, include_unlabelled_nis=True)
    assert [c.value for c in ext.nis] == ["9598322"]
    assert [c.value for c in ext.cedulas] == ["2223735"]
    assert [c.value for c in ext.rucs] == ["80063560-4"]
    assert [c.value for c in ext.expedientes] == ["512/2025"]
    assert [c.value for c in ext.ots] == ["2025-000017"]
    assert ext.document_date == date(2025, 10, 12)
