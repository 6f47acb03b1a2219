"""Canonical forms of the identifiers people type, matching what ingest stores.

Ingest stores NIS and cédula as digits, RUC as "base-dv", expediente as
"number/year" and OT as "year-NNNNNN" or digits (see ``ingest.extract``);
archive numbers look like "ARC-2026-000123". A query value is brought to the
same form, so "3.603.408" finds "3603408" and "exp 0123/25" finds "123/2025".
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")
_NUMBER_ONLY = re.compile(r"^[\d.\s\-]+$")
_RUC = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d{5,10})\s?[\-\u2013]\s?(\d)\s*$")
_EXPEDIENTE = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d{1,7})\s?/\s?(\d{4}|\d{2})\s*$")
_OT_YEAR = re.compile(r"^\s*(\d{4})\s?[\-\u2013/]\s?(\d{1,8})\s*$")
_ARCHIVE = re.compile(r"^\s*([A-Za-z]{3})[\-\s]?(\d{4})[\-\s]?(\d{1,6})\s*$")

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
