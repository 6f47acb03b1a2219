"""Identifiers and dates found in the text of a scanned document.

The archive is searched by supply number (NIS), so a wrong NIS links a page to
the wrong customer: every finder here prefers missing a value to inventing
one. Numbers are only trusted next to a label ("NIS", "C.I.", "RUC",
"Expediente N°", ...), and OCR letter-for-digit confusions are only repaired
inside such a labelled number, where the label says a number must be there.

All matching runs on an accent-folded copy of the text that keeps every
character at its original offset, so spans always point into the caller's text.

NIS confidence: 0.95 after a label ("NIS", "N.I.S.", "Suministro N°", ...),
0.9 for further numbers of a list after one label, 0.8 after a bare
"suministro"; minus 0.05 per OCR letter read as a digit and 0.1 when the
length is not today's 7 digits. Unlabelled NIS are not returned by default;
with ``include_unlabelled=True`` a bare 7-digit number that no other finder
claims and that follows no foreign label ("Medidor", "Tel.", "Gs.", ...) is
returned at 0.4, so callers can keep it out of exact links but still index it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from archive.identifiers import (
    CEDULA_DIGITS,
    NIS_IN_TEXT_DIGITS,
    NIS_USUAL_DIGITS,
    NUMBER_SIGN_AS_DIGIT,
    NUMBER_SIGNS,
    OCR_LOOKALIKES,
    RUC_BASE,
    digits_only,
    expediente_value,
    fold_accents,
    number_sign_class,
    ocr_fixes,
    ot_value,
    ruc_check_digit,
    ruc_value,
    widen_year,
)
from archive.identifiers import ocr_digits as normalize_digits

__all__ = [
    "LABELLED_CONFIDENCE",
    "UNLABELLED_CONFIDENCE",
    "Candidate",
    "Extraction",
    "digits_only",
    "extract_all",
    "find_cedulas",
    "find_dates",
    "find_expedientes",
    "find_nis",
    "find_ots",
    "find_rucs",
    "fold_accents",
    "normalize_digits",
    "ruc_check_digit",
]

LABELLED_CONFIDENCE = 0.95
LIST_CONFIDENCE = 0.9  # later numbers of a list after one label: "NIS: 1234567 y 2345678"
WEAK_LABEL_CONFIDENCE = 0.8  # "suministro 1234567" without N°/Nro./colon
UNLABELLED_CONFIDENCE = 0.4
OCR_FIX_PENALTY = 0.05  # per letter read as a digit
ODD_LENGTH_PENALTY = 0.1  # a NIS not of today's length: allowed, trusted a little less
MAX_OCR_FIXES = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """One identifier found in the text.

    ``value`` is canonical (NIS and cédula: digits only; RUC: "base-dv";
    expediente: "number/year"; OT: "year-NNNNNN" or digits), ``span`` the
    offsets of the number itself in the original text and ``raw`` that text.
    """

    value: str
    kind: str
    confidence: float
    span: tuple[int, int]
    raw: str


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything ``extract_all`` found in one document's text."""

    nis: list[Candidate] = field(default_factory=list)
    cedulas: list[Candidate] = field(default_factory=list)
    rucs: list[Candidate] = field(default_factory=list)
    expedientes: list[Candidate] = field(default_factory=list)
    ots: list[Candidate] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    document_date: date | None = None


# --------------------------------------------------------------------------- helpers

def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per value, the most confident one, in order of appearance."""
    best: dict[str, Candidate] = {}
    for c in cands:
        kept = best.get(c.value)
        if kept is None or c.confidence > kept.confidence:
            best[c.value] = c
    return sorted(best.values(), key=lambda c: c.span)


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)


# --------------------------------------------------------------------------- shared patterns

# The sign of "N°" and its OCR look-alikes ("N*", "N®", ...), from the one table in archive.nis.
_SIGN = number_sign_class()
# "N°" read as "N0": only before a space (see archive.nis.NUMBER_SIGN_AS_DIGIT).
_SIGN_AS_DIGIT = rf"n{NUMBER_SIGN_AS_DIGIT}(?=[ \t])"
# "N°", "Nº", "Nro.", "No.", "Num.", "Número", "#", and OCR renderings of them ("Ne", "N*",
# "N®", "N0 ").
_NUMSIGN = rf"(?i:(?:{_SIGN_AS_DIGIT}|n(?:ro|o|e|um|umero)?\s?\.?\s?{_SIGN}?|#))"
# Separators allowed between a label and its number (newline included: labels wrap), plus
# the specks OCR reads as quotes, asterisks or degree signs ("NIS: "3312321").
_GAP = r"[\s:;,.\-\u2013=#«»" + re.escape(NUMBER_SIGNS) + r"]*"
# A digit or a letter OCR mistakes for one (case-sensitive on purpose: "s" or "b" are not digits).
_D = "[0-9" + re.escape(OCR_LOOKALIKES) + "]"
# A number as printed: thousands-grouped ("4.992.383", "4 992 383") or one run.
_NUM_LOOSE = rf"(?:{_D}{{1,3}}(?:[ .,]{_D}{{3}})+(?![.,]?[0-9])|{_D}{{4,12}})(?![0-9A-Za-z])"


# --------------------------------------------------------------------------- NIS

_NIS_LABEL = (
    r"(?i:"
    r"(?<![a-z0-9])n ?\.? ?[i1l|!{}\[\]] ?\.? ?s\.?(?![a-z])"  # NIS, N.I.S., N.I.S, OCR'd N1S/N{S
    rf"(?:\s*{_NUMSIGN})?"  # NIS N°, NIS Nro.
    # Nro. NIS, N° de NIS
    rf"|(?<![a-z])n(?:ro|o|um|umero)?\s?\.?\s?{_SIGN}?\s*(?:de\s+)?nis(?![a-z])"
    # N° de suministro, Número de suministro
    rf"|(?<![a-z])n(?:ro|o|um|umero)?\s?\.?\s?{_SIGN}?\s*(?:de\s+|del\s+)?suministro(?![a-z])"
    # Suministro N°, Suministro Nro., Suministro:
    rf"|(?<![a-z])suministros?\s*"
    rf"(?:{_SIGN_AS_DIGIT}|n(?:ro|o|um|umero)\s?\.?|n\s?\.?\s?{_SIGN}|:|#)"
    r")"
)
_NIS_STRONG = re.compile(rf"(?P<label>{_NIS_LABEL}){_GAP}(?P<num>{_NUM_LOOSE})")
_NIS_WEAK = re.compile(
    r"(?i:(?<![a-z])suministro)[ \t]+(?P<num>[0-9]{6,10})(?![0-9A-Za-z.,])"
)
# More numbers after a labelled one: "NIS: 1234567, 2345678 y 3456789".
_LIST_NEXT = re.compile(rf"\s*(?:,|;|/|-|\u2013|\by\b|\be\b)\s*(?P<num>{_NUM_LOOSE})")


def _labelled_number(token: str, lo: int, hi: int) -> tuple[str, int] | None:
    """Digits of a labelled number token and how many OCR fixes it took, or None if implausible."""
    fixes = ocr_fixes(token)
    value = normalize_digits(token)
    if not lo <= len(value) <= hi or fixes > MAX_OCR_FIXES:
        return None
    return value, fixes


def _labelled_nis(text: str, folded: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _NIS_STRONG.finditer(folded):
        conf = LABELLED_CONFIDENCE
        num: re.Match[str] | None = m
        while num is not None:
            token = num.group("num")
            got = _labelled_number(token, *NIS_IN_TEXT_DIGITS)
            if got is None:
                break
            value, fixes = got
            s, e = num.span("num")
            penalty = fixes * OCR_FIX_PENALTY
            if len(value) != NIS_USUAL_DIGITS:
                penalty += ODD_LENGTH_PENALTY
            out.append(Candidate(value, "nis", round(conf - penalty, 3), (s, e), text[s:e]))
            conf, num = LIST_CONFIDENCE, _LIST_NEXT.match(folded, e)
    for m in _NIS_WEAK.finditer(folded):
        s, e = m.span("num")
        out.append(Candidate(m.group("num"), "nis", WEAK_LABEL_CONFIDENCE, (s, e), text[s:e]))
    return out


# Bare seven-digit numbers, and what disqualifies them as an unlabelled NIS.
_BARE7 = re.compile(r"(?<![0-9.,/\-])[1-9][0-9]{6}(?![0-9]|[.,/\-][0-9])")
_FOREIGN_LABEL = re.compile(
    r"(?i:(?<![a-z])(?:medidor|poste|pt|tel|telef|telefono|cel|celular|fax|linea|movil|"
    r"ruc|c\.?\s?i\.?c?|cedula|identidad|gs|guaranies|monto|importe|total|deuda|saldo|"
    r"expediente|expte|exp|ot|o\.t|orden|factura|recibo|boleta|comprobante|cuenta|cta|legajo|"
    r"matricula|resolucion|ley|decreto|serie|lote|finca|padron|catastro|codigo|cod)"
    r"(?![a-z])[^\n]{0,25}$)"
)
_PHONE = re.compile(
    r"(?<![0-9])(?:\+?595\s?|\(?0)\d{2,3}\)?[\s\-]?\d{3}[\s\-]?\d{3,4}(?![0-9])"
)
_AMOUNT_AFTER = re.compile(r"^\s*(?i:gs\b|guaranies|kw|kwh|kva|v\b|%|m2|mts?\b)")
_CURRENCY_BEFORE = re.compile(r"(?:[₲$]|(?i:gs\.?))\s*$")


def _unlabelled_nis(text: str, folded: str, claimed: list[tuple[int, int]]) -> list[Candidate]:
    """Bare 7-digit numbers that nothing else explains; deliberately low confidence."""
    taken = claimed + [m.span() for m in _PHONE.finditer(folded)]
    out: list[Candidate] = []
    for m in _BARE7.finditer(folded):
        s, e = m.span()
        line_start = folded.rfind("\n", 0, s) + 1
        before = folded[max(line_start, s - 30):s]
        if (
            _overlaps((s, e), taken)
            or _FOREIGN_LABEL.search(before)
            or _CURRENCY_BEFORE.search(before)
            or _AMOUNT_AFTER.match(folded[e:e + 12])
        ):
            continue
        out.append(Candidate(m.group(), "nis", UNLABELLED_CONFIDENCE, (s, e), text[s:e]))
    return out


def find_nis(text: str, include_unlabelled: bool = False) -> list[Candidate]:
    """Supply numbers (NIS) in ``text``, one per value, best confidence kept.

    Labelled numbers ("NIS: 4.992.383", "N° de suministro 4992383") score
    ``LABELLED_CONFIDENCE`` minus ``OCR_FIX_PENALTY`` per letter read as a digit.
    Unlabelled 7-digit numbers are skipped unless ``include_unlabelled``: a
    cédula without dots, a meter number or an amount looks exactly like a NIS,
    and precision matters more than recall here.
    """
    others = None
    if include_unlabelled:
        others = [*find_cedulas(text), *find_rucs(text), *find_expedientes(text), *find_ots(text)]
    return _find_nis(text, fold_accents(text), others)


def _find_nis(text: str, folded: str, others: list[Candidate] | None) -> list[Candidate]:
    """``find_nis`` given the identifiers unlabelled candidates must avoid (None: no unlabelled)."""
    found = _labelled_nis(text, folded)
    if others is not None:
        claimed = [c.span for c in [*found, *others]] + [s for _, s in _dates_with_spans(folded)]
        found += _unlabelled_nis(text, folded, claimed)
    return _dedupe(found)


# --------------------------------------------------------------------------- cédula

_CI_LABEL = (
    r"(?i:"
    # CI, C.I., C.I.C., C.I.N° (and OCR'd C.l., C.!.)
    r"(?<![a-z0-9])c ?\.? ?[i1l|!] ?\.?(?: ?c ?\.?)?(?:(?![a-z])|(?=n ?(?:[.or0]|" + _SIGN + ")))"
    r"|(?<![a-z])cedula(?:\s+de\s+identidad)?(?:\s+(?:civil|policial|paraguaya))?(?![a-z])"
    r")"
)
_CI_RE = re.compile(rf"{_CI_LABEL}(?:\s*{_NUMSIGN})?{_GAP}(?P<num>{_NUM_LOOSE})")


def find_cedulas(text: str) -> list[Candidate]:
    """Paraguayan identity-card numbers after a "C.I."/"Cédula" label, as digits.

    A "RUC 1234567-8" is not reported here even though its base is a cédula:
    the label says it was written as a tax id.
    """
    folded = fold_accents(text)
    out: list[Candidate] = []
    for m in _CI_RE.finditer(folded):
        got = _labelled_number(m.group("num"), *CEDULA_DIGITS)
        if got is None or folded[m.end("num"):m.end("num") + 1] in ("-", "\u2013"):
            continue  # a "CI 1234567-8" is really a RUC-style number with its check digit
        value, fixes = got
        s, e = m.span("num")
        conf = round(LABELLED_CONFIDENCE - fixes * OCR_FIX_PENALTY, 3)
        out.append(Candidate(value, "cedula", conf, (s, e), text[s:e]))
    return _dedupe(out)


# --------------------------------------------------------------------------- RUC

_RUC_LABEL = r"(?i:(?<![a-z])r ?\.? ?u ?\.? ?c ?\.?(?![a-z]))"
_RUC_NUM = rf"(?P<num>(?P<base>{RUC_BASE})\s?[\-\u2013]\s?(?P<dv>[0-9]))(?![0-9]|[.,][0-9])"
_RUC_LABELLED = re.compile(rf"{_RUC_LABEL}(?:\s*{_NUMSIGN})?{_GAP}{_RUC_NUM}")
_RUC_BARE = re.compile(rf"(?<![0-9.,/\-]){_RUC_NUM}")
_RUC_BARE_MIN_BASE = 6  # a bare "12345-6" is too often something else


def find_rucs(text: str, include_invalid: bool = False) -> list[Candidate]:
    """RUC numbers "base-dv" whose check digit verifies.

    Labelled ones ("RUC N° 80012345-6") score 0.95, bare "80012345-6" 0.8 (the
    check digit makes a false hit 1 in 11). A failing check digit usually means
    an OCR misread, so such numbers are dropped; with ``include_invalid`` they
    come back as kind "ruc_invalid" with confidence 0.2 so a person can review them.
    """
    folded = fold_accents(text)
    out: list[Candidate] = []
    labelled_spans: list[tuple[int, int]] = []
    for pattern, conf in ((_RUC_LABELLED, LABELLED_CONFIDENCE), (_RUC_BARE, 0.8)):
        for m in pattern.finditer(folded):
            s, e = m.span("num")
            base = digits_only(m.group("base"))
            if pattern is _RUC_BARE:
                if (s, e) in labelled_spans or len(base) < _RUC_BARE_MIN_BASE:
                    continue
            else:
                labelled_spans.append((s, e))
            value = ruc_value(base, m.group("dv"))
            if ruc_check_digit(base) == int(m.group("dv")):
                out.append(Candidate(value, "ruc", conf, (s, e), text[s:e]))
            elif include_invalid:
                out.append(Candidate(value, "ruc_invalid", 0.2, (s, e), text[s:e]))
    return _dedupe(out)


# --------------------------------------------------------------------------- expediente and OT

_EXP_RE = re.compile(
    r"(?i:(?<![a-z])(?:expediente|expte|expdte|exp\.)(?![a-z]))"
    rf"\.?(?:\s*{_NUMSIGN})?{_GAP}"
    r"(?P<num>(?P<n>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,7})\s?/\s?(?P<y>[0-9]{4}|[0-9]{2}))(?![0-9])"
)


def find_expedientes(text: str) -> list[Candidate]:
    """File numbers after "Expediente"/"Expte." as "number/year".

    Leading zeros are dropped and two-digit years widened ("0123/25" -> "123/2025")
    so that differently typed references to one file compare equal.
    """
    folded = fold_accents(text)
    out: list[Candidate] = []
    for m in _EXP_RE.finditer(folded):
        value = expediente_value(m.group("n"), m.group("y"))
        if value is None:
            continue
        s, e = m.span("num")
        out.append(Candidate(value, "expediente", LABELLED_CONFIDENCE, (s, e), text[s:e]))
    return _dedupe(out)


_OT_RE = re.compile(
    r"(?i:(?<![a-z])(?:orden\s+de\s+trabajo(?![a-z])(?:\s*" + _NUMSIGN + r")?"
    r"|o ?\.? ?t\.?(?![a-z])\s*(?:" + _NUMSIGN + r"|:)))"
    + _GAP
    + r"(?P<num>(?P<y>[0-9]{4})\s?[\-\u2013/]\s?(?P<seq>[0-9]{1,8})"
    r"|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{3,12})(?![0-9]|[.,\-/][0-9])"
)


def find_ots(text: str) -> list[Candidate]:
    """Work-order numbers after "Orden de trabajo"/"OT N°".

    "2024-1234" becomes "2024-001234" (the six-digit sequence the utility
    prints) so that differently typed copies match; other forms become digits.
    A bare "OT" needs N°/Nro./colon after it: "ot" alone is too short to trust.
    """
    folded = fold_accents(text)
    out: list[Candidate] = []
    for m in _OT_RE.finditer(folded):
        s, e = m.span("num")
        if m.group("y") is not None and widen_year(m.group("y")) is not None:
            value = ot_value(m.group("y"), m.group("seq"))
        else:
            value = digits_only(m.group("num"))
        out.append(Candidate(value, "ot", LABELLED_CONFIDENCE, (s, e), text[s:e]))
    return _dedupe(out)


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}
_LONG_DATE = re.compile(
    r"(?<![0-9])(?P<d>[0-9]{1,2})\s?[°ºo]?\s*(?i:de\s+)?(?P<m>(?i:" + "|".join(_MONTHS) + r"))"
    r"(?![a-z])\s*(?i:,?\s*(?:de|del)\s+|,\s*|\s)(?P<y>[0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
_NUM_DATE = re.compile(
    r"(?<![0-9.,/\-])(?P<d>[0-9]{1,2})(?P<sep>[/.\-])(?P<m>[0-9]{1,2})(?P=sep)"
    r"(?P<y>[0-9]{4}|[0-9]{2})(?![0-9]|[.,/\-][0-9])"
)


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _dates_with_spans(folded: str) -> list[tuple[date, tuple[int, int]]]:
    """Valid day-first dates with their spans, in order of appearance."""
    found: list[tuple[date, tuple[int, int]]] = []
    for m in _LONG_DATE.finditer(folded):
        y = int(m.group("y"))
        d = _make_date(y, _MONTHS[m.group("m").lower()], int(m.group("d")))
        if d and 1900 <= y <= 2100:
            found.append((d, m.span()))
    for m in _NUM_DATE.finditer(folded):
        y_txt = m.group("y")
        if len(y_txt) == 2 and m.group("sep") != "/":
            continue  # "12.10.16" is as likely a version or a code as a date
        year = widen_year(y_txt) if len(y_txt) == 2 else int(y_txt)
        d = _make_date(year, int(m.group("m")), int(m.group("d"))) if year else None
        if d and 1900 <= d.year <= 2100:
            found.append((d, m.span()))
    return sorted(found, key=lambda f: f[1])


def find_dates(text: str) -> list[date]:
    """Spanish day-first dates ("3 de octubre de 2016", "03/10/2016", "3-10-2016", "03.10.2016").

    Impossible dates (31/02/2020) are dropped; repeats are kept once, in order of
    appearance. Month-year only ("octubre de 2016") is not a date here.
    """
    return list(dict.fromkeys(d for d, _ in _dates_with_spans(fold_accents(text))))


# A date written after "Fecha:", "Fecha de emisión:" or as a letter's dateline "Asunción, 3 de ...".
_DATE_LABEL = re.compile(r"(?i:fecha(?:\s+de\s+(?:emision|expedicion|recepcion))?)\s*:?\s*$")
_DATELINE = re.compile(r"^[ \t]*[A-Z][A-Za-z .]{2,40},\s*$")


def _document_date(folded: str, dated: list[tuple[date, tuple[int, int]]]) -> date | None:
    """Issue date: labelled "Fecha:" first, then a dateline, then the first date at all."""
    if not dated:
        return None
    for d, (s, _) in dated:
        line = folded[folded.rfind("\n", 0, s) + 1:s]
        if _DATE_LABEL.search(line):
            return d
    for d, (s, _) in dated:
        if _DATELINE.match(folded[folded.rfind("\n", 0, s) + 1:s]):
            return d
    return dated[0][0]


# --------------------------------------------------------------------------- all together

def extract_all(text: str, include_unlabelled_nis: bool = False) -> Extraction:
    """Run every finder on one document's text (pages may be joined with form feeds)."""
    folded = fold_accents(text)
    dated = _dates_with_spans(folded)
    cedulas, rucs = find_cedulas(text), find_rucs(text)
    expedientes, ots = find_expedientes(text), find_ots(text)
    others = [*cedulas, *rucs, *expedientes, *ots] if include_unlabelled_nis else None
    return Extraction(
        nis=_find_nis(text, folded, others),
        cedulas=cedulas,
        rucs=rucs,
        expedientes=expedientes,
        ots=ots,
        dates=list(dict.fromkeys(d for d, _ in dated)),
        document_date=_document_date(folded, dated),
    )
