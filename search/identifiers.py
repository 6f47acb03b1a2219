"""Canonical forms of the identifiers people type, matching what ingest stores.

The forms themselves (NIS and cédula as digits, RUC as "base-dv", expediente
as "number/year", OT as "year-NNNNNN" or digits, "ARC-2026-000123") live in
``archive.identifiers``, shared with ingest, so a query value is brought to the
form ingest stored: "3.603.408" finds "3603408", "exp 0123/25" finds "123/2025".

Clerks type the label printed on the paper before the number ("NIS 1234567",
"C.I. N° 3.603.408", "Expte. 123/2024"): ``unlabel`` turns those into the alias
clauses of the query language, so a label never reads as a word to search for
nor as the prefix of an archive number.
"""

from __future__ import annotations

import re

from archive.identifiers import (
    ARCHIVE_PREFIX,
    CANONICAL,
    archive_number,
    cedula,
    digits_only,
    expediente,
    nis,
    number_sign_class,
    ot,
    plain_number,
    ruc,
)

__all__ = ["CANONICAL", "LABEL_ALIASES", "archive_number", "cedula", "digits_only", "expediente",
           "nis", "ot", "plain_number", "ruc", "unlabel"]


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
