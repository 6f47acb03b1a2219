"""What an identifier looks like: the one home of every form, for extraction, search and checks.

Ingest reads identifiers out of OCR text, search brings typed ones to the same
form, and validation refuses what cannot be one. All three must agree on the
shapes, or "3.603.408" typed would miss "3603408" stored. Canonical forms:
NIS and cédula as digits, RUC as "base-dv", expediente as "number/year", OT as
"year-NNNNNN" or digits, archive and dispatch numbers as "ARC-2026-000123" and
"ENV-2026-000123".

Also here: the OCR letters read as digits, the OCR renderings of "N°", the
widening of two-digit years, and accent folding, each used by more than one
package.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --------------------------------------------------------------------------- lengths

# Digits a supply number (NIS) may have: 7 today, variable over the utility's history.
NIS_DIGITS = (5, 12)
NIS_USUAL_DIGITS = 7
# Digits a labelled number in OCR text needs to be read as a NIS: tighter than what a
# person may type, because a wrong NIS links a page to the wrong customer.
NIS_IN_TEXT_DIGITS = (6, 10)
CEDULA_DIGITS = (5, 8)


def digits_only(text: str) -> str:
    """Keep the ASCII digits of ``text`` (drops thousands dots, spaces, hyphens)."""
    return "".join(c for c in text if "0" <= c <= "9")


# --------------------------------------------------------------------------- OCR readings

# Letters OCR confuses with digits. Reading them as digits is only right where a label
# guarantees a number (after "NIS:"), else "SOL" would become 501.
OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})
OCR_LOOKALIKES = "OolI|SB"  # the letters of OCR_DIGITS, for character classes


def ocr_digits(text: str) -> str:
    """The digits of ``text`` with OCR look-alike letters (O, l, I, |, S, B) read as digits."""
    return digits_only(text.translate(OCR_DIGITS))


def ocr_fixes(token: str) -> int:
    """How many characters of ``token`` are letters standing in for digits."""
    return sum(1 for c in token if c in OCR_LOOKALIKES)


# What OCR returns for the degree or ordinal sign of "N°" (number sign): the signs themselves,
# and the specks and round marks it mistakes them for ("N*", "N\"", "N®", "N©"). Each stands
# only after an N and before a number, so reading it as "N°" cannot invent a value.
NUMBER_SIGNS = "°º˚*'\"`´\u201c\u201d\u2018\u2019®©"
# Where "N°" lost its sign to a digit: "N0 2023-004512". Safe only before a space, since
# "N01234567" may as well be a number that starts with 0.
NUMBER_SIGN_AS_DIGIT = "0"


def number_sign_class() -> str:
    """``NUMBER_SIGNS`` as a regular-expression character class."""
    return "[" + re.escape(NUMBER_SIGNS) + "]"


# --------------------------------------------------------------------------- folding

def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lowercase without accents ("Capiatá" -> "capiata"); used wherever names are compared."""
    return _strip_marks(text.lower())


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    base = _strip_marks(ch)
    if len(base) != 1 or (base.isspace() and ch in NUMBER_SIGNS):  # "N˚" stays a number sign
        return ch
    return base


def fold_accents(text: str) -> str:
    """Strip accents one character for one, so offsets in the result match ``text``.

    Case is kept: finders match labels case-insensitively but read digits and
    OCR look-alikes ("O" for 0) by case.
    """
    return "".join(_fold_char(c) for c in text)


# --------------------------------------------------------------------------- years

def widen_year(year: str) -> int | None:
    """A four-digit year from "2025" or "25" (00-69 -> 20xx, 70-99 -> 19xx), if plausible."""
    n = int(year)
    if len(year) == 2:
        n += 2000 if n < 70 else 1900
    return n if 1950 <= n <= 2100 else None


# --------------------------------------------------------------------------- RUC

# A RUC base as printed: thousands-grouped ("80.012.345") or one run of 5 to 10 digits.
RUC_BASE = r"(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{5,10})"


def ruc_check_digit(base: str) -> int:
    """SET's modulo-11 check digit for a RUC base: weights 2..11 from the right, cycling.

    Raises ValueError for an empty or non-numeric base.
    """
    if not base or not base.isascii() or not base.isdigit():
        raise ValueError(f"Base de RUC inválida: {base!r}")
    total, weight = 0, 2
    for ch in reversed(base):
        total += int(ch) * weight
        weight = 2 if weight == 11 else weight + 1
    rest = total % 11
    return 11 - rest if rest > 1 else 0


def ruc_value(base: str, check: str) -> str:
    """"80.012.345", "6" -> "80012345-6" (the check digit is not verified here)."""
    return f"{digits_only(base)}-{check}"


# --------------------------------------------------------------------------- expediente, OT

def expediente_value(number: str, year: str) -> str | None:
    """"0123", "25" -> "123/2025": leading zeros dropped, year widened; None if implausible."""
    widened, n = widen_year(year), int(digits_only(number))
    return f"{n}/{widened}" if widened and n else None


def ot_value(year: str, sequence: str) -> str:
    """"2024", "1234" -> "2024-001234", the six-digit sequence the utility prints."""
    return f"{year}-{int(sequence):06d}"


# --------------------------------------------------------------------------- archive numbers

# Sequence prefixes of the archive's own numbers.
ARCHIVE_PREFIX = "ARC"
DISPATCH_PREFIX = "ENV"


def sequence_number(prefix: str, year: int | str, value: int) -> str:
    """``ARC-2026-000123``: prefix, year, six-digit counter."""
    return f"{prefix}-{year}-{value:06d}"


# --------------------------------------------------------------------------- typed values

# ASCII digits only, like extraction: stored identifiers are ASCII.
_DIGIT = re.compile(r"[0-9]")
_NUMBER_ONLY = re.compile(r"^[0-9.\s\-]+$")
_RUC = re.compile(rf"^\s*({RUC_BASE})\s?[\-\u2013]\s?([0-9])\s*$")
_EXPEDIENTE = re.compile(
    r"^\s*([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,7})\s?/\s?([0-9]{4}|[0-9]{2})\s*$")
_OT_YEAR = re.compile(r"^\s*([0-9]{4})\s?[\-\u2013/]\s?([0-9]{1,8})\s*$")
# Only the archive's own prefix: "NIS 1234567" or "XYZ 1234567" is no archive number.
_ARCHIVE = re.compile(rf"^\s*({ARCHIVE_PREFIX})[\-\s]?([0-9]{{4}})[\-\s]?([0-9]{{1,6}})\s*$",
                      re.IGNORECASE)


def plain_number(text: str) -> str | None:
    """Digits of a number typed with optional dots, spaces or hyphens; None for anything else."""
    if not _NUMBER_ONLY.match(text) or not _DIGIT.search(text):
        return None
    return "".join(_DIGIT.findall(text))


def _within(value: str | None, bounds: tuple[int, int]) -> str | None:
    return value if value and bounds[0] <= len(value) <= bounds[1] else None


def nis(text: str) -> str | None:
    """A typed NIS as digits ("4.992.383" -> "4992383"), or None."""
    return _within(plain_number(text), NIS_DIGITS)


def cedula(text: str) -> str | None:
    """A typed cédula as digits, or None."""
    return _within(plain_number(text), CEDULA_DIGITS)


def ruc(text: str) -> str | None:
    """A typed RUC as "base-dv" (any check digit: a person may be looking for a wrong one)."""
    m = _RUC.match(text)
    return ruc_value(m.group(1), m.group(2)) if m else None


def expediente(text: str) -> str | None:
    """A typed expediente as "number/year" ("0123/25" -> "123/2025"), or None."""
    m = _EXPEDIENTE.match(text)
    return expediente_value(m.group(1), m.group(2)) if m else None


def ot(text: str) -> str | None:
    """A typed work order as "year-NNNNNN", or digits (three or more), or None."""
    m = _OT_YEAR.match(text)
    if m:
        return ot_value(m.group(1), m.group(2))
    value = plain_number(text)
    return value if value and len(value) >= 3 else None


def archive_number(text: str) -> str | None:
    """"arc-2026-123" -> "ARC-2026-000123"."""
    m = _ARCHIVE.match(text)
    if not m:
        return None
    return sequence_number(m.group(1).upper(), m.group(2), int(m.group(3)))


CANONICAL = {
    "nis": nis,
    "cedula": cedula,
    "ruc": ruc,
    "expediente": expediente,
    "ot": ot,
    "archive_number": archive_number,
}
