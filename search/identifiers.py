"""Canonical forms of the identifiers people type, matching what ingest stores.

Ingest stores NIS and cédula as digits, RUC as "base-dv", expediente as
"number/year" and OT as "year-NNNNNN" or digits (see ``ingest.extract``);
archive numbers look like "ARC-2026-000123". A query value is brought to the
same form, so "3.603.408" finds "3603408" and "exp 0123/25" finds "123/2025".

Clerks type the label printed on the paper before the number ("NIS 1234567",
"C.I. N° 3.603.408", "Expte. 123/2024"): ``unlabel`` turns those into the alias
clauses of the query language, so a label never reads as a word to search for
nor as the prefix of an archive number.
"""

from __future__ import annotations

import re

from archive.nis import number_sign_class

_DIGITS = re.compile(r"\d")
_NUMBER_ONLY = re.compile(r"^[\d.\s\-]+$")
_RUC = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d{5,10})\s?[\-\u2013]\s?(\d)\s*$")
_EXPEDIENTE = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d{1,7})\s?/\s?(\d{4}|\d{2})\s*$")
_OT_YEAR = re.compile(r"^\s*(\d{4})\s?[\-\u2013/]\s?(\d{1,8})\s*$")
# Only the archive's own prefix: "NIS 1234567" or "XYZ 1234567" is no archive number.
ARCHIVE_PREFIX = "ARC"
_ARCHIVE = re.compile(rf"^\s*({ARCHIVE_PREFIX})[\-\s]?(\d{{4}})[\-\s]?(\d{{1,6}})\s*$",
                      re.IGNORECASE)

NIS_DIGITS = (5, 12)
CEDULA_DIGITS = (5, 8)


def digits(text: str) -> str:
    return "".join(_DIGITS.findall(text))


def plain_number(text: str) -> str | None:
    """Digits of a number typed with optional dots, spaces or hyphens; None for anything else."""
    if not _NUMBER_ONLY.match(text) or not _DIGITS.search(text):
        return None
    return digits(text)


def nis(text: str) -> str | None:
    value = plain_number(text)
    return value if value and NIS_DIGITS[0] <= len(value) <= NIS_DIGITS[1] else None


def cedula(text: str) -> str | None:
    value = plain_number(text)
    return value if value and CEDULA_DIGITS[0] <= len(value) <= CEDULA_DIGITS[1] else None


def ruc(text: str) -> str | None:
    m = _RUC.match(text)
    return f"{digits(m.group(1))}-{m.group(2)}" if m else None


def _year(y: str) -> int | None:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n if 1950 <= n <= 2100 else None


def expediente(text: str) -> str | None:
    m = _EXPEDIENTE.match(text)
    if not m:
        return None
    year, number = _year(m.group(2)), int(digits(m.group(1)))
    return f"{number}/{year}" if year and number else None


def ot(text: str) -> str | None:
    m = _OT_YEAR.match(text)
    if m:
        return f"{m.group(1)}-{int(m.group(2)):06d}"
    value = plain_number(text)
    return value if value and len(value) >= 3 else None


def archive_number(text: str) -> str | None:
    """"arc-2026-123" -> "ARC-2026-000123"."""
    m = _ARCHIVE.match(text)
    if not m:
        return None
    return f"{m.group(1).upper()}-{m.group(2)}-{int(m.group(3)):06d}"


CANONICAL = {
    "nis": nis,
    "cedula": cedula,
    "ruc": ruc,
    "expediente": expediente,
    "ot": ot,
    "archive_number": archive_number,
}


# --------------------------------------------------------------------------- typed labels

# "N°", "Nº", "N*", "Nro", "Nro.", "N.", "No.", "Núm.", "Número", "#": a number sign.
_SIGN = (r"(?:n\s?" + number_sign_class() + r"|nro(?![^\W\d_])\.?|n\.|no\.|n[uú]m(?:ero)?"
         r"(?![^\W\d_])\.?|#)")
# Labels clerks type before an identifier, by the kind of identifier they name.
_KIND_LABELS = {
    "nis": rf"(?:{_SIGN}\s*(?:del?\s+)?)?(?:n\.?i\.?s\.?|suministro)",
    "cedula": r"c[eé]dula(?:\s+de\s+identidad)?|c\.?i\.?(?:c\.?)?",
    "ruc": r"r\.?u\.?c\.?",
    "expediente": r"expediente|expte\.?|exp\.?",
    "ot": r"orden\s+de\s+trabajo|o\.?t\.?",
    "numero": _SIGN,
}
# The alias each kind of label becomes ("numero": none, the number is left bare).
LABEL_ALIASES = {"nis": "nis", "cedula": "ci", "ruc": "ruc", "expediente": "expediente",
                 "ot": "ot"}
_LABEL = "|".join(f"(?P<{kind}>{rx})" for kind, rx in _KIND_LABELS.items())
# A quoted phrase (left alone), or a label, an optional number sign and a separator (space,
# colon, hyphen, period, none) before a number. The label starts the query, follows a space or
# a parenthesis, and is no word's beginning ("nisa", "otro").
_LABELLED = re.compile(
    rf'(?P<phrase>"[^"]*")|(?:(?<=[\s(])|^)(?P<neg>-)?(?P<label>{_LABEL})'
    rf"(?:(?![^\W\d_])|(?={_SIGN}))"  # "C.I.N° 3603408"
    rf"(?P<sep>\s*(?:{_SIGN}(?![^\W\d_]))?\s*[:.\-]?\s*)"
    rf"(?P<value>\d(?:[\d./\-]*\d)?|{ARCHIVE_PREFIX}[\-\s]?\d{{4}}[\-\s]?\d{{1,6}})"
    r"(?=[.,;:]?(?:$|[\s)]))",
    re.IGNORECASE,
)


def _label_kind(m: re.Match[str]) -> str:
    return next(kind for kind in _KIND_LABELS if m[kind] is not None)


def _names_a_value(kind: str, value: str, sep: str) -> bool:
    """Whether the label clearly introduces ``value``.

    After a colon the value is meant as one, and a wrong one gets its own message
    ("nis: 123"); after a bare space only a value of that kind makes the label a
    label ("ot 5 heladeras" stays words, as before).
    """
    if ":" in sep:
        return True
    if kind == "numero":
        return plain_number(value) is not None or archive_number(value) is not None
    if CANONICAL[kind](value) is not None:
        return True
    return kind in ("ruc", "expediente") and plain_number(value) is not None  # any dv / any year


def unlabel(text: str) -> str:
    """Labelled identifiers as alias clauses: "NIS: 1234567" -> "nis:1234567".

    A bare number sign ("N° 1234567", "Nro. 1234567") says no kind: it is
    dropped, and the number searched as if typed alone ("N° ARC-2024-000123":
    that archive number).
    """

    def swap(m: re.Match[str]) -> str:
        if m["phrase"]:
            return m[0]
        kind, value = _label_kind(m), m["value"]
        if not _names_a_value(kind, value, m["sep"]):
            return m[0]
        neg = m["neg"] or ""
        if kind == "numero":
            return f"{neg}numero:{value}" if archive_number(value) else neg + value
        return f"{neg}{LABEL_ALIASES[kind]}:{value}"

    return _LABELLED.sub(swap, text)
