"""Supply numbers (NIS): digits only, variable length (7 today)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ArchivoError

MIN_DIGITS, MAX_DIGITS = 5, 12
# Supplies one paper may concern, and NIS one request may name. A contract or a work order
# names a handful; past this it is a careless client, and each NIS costs a link and a check.
MAX_NIS = 50
_SEPARATORS = re.compile(r"[\s.\-]")


def normalize_nis(text: str) -> str:
    """``"4.992.383"`` -> ``"4992383"``; a Spanish error when it is not a supply number."""
    digits = _SEPARATORS.sub("", str(text).strip())
    if not digits.isdigit() or not (MIN_DIGITS <= len(digits) <= MAX_DIGITS):
        raise ArchivoError(f"«{text}» no es un NIS válido: debe tener entre {MIN_DIGITS} y "
                           f"{MAX_DIGITS} dígitos (se admiten puntos o espacios entre ellos).")
    return digits


def looks_like_nis(text: str) -> bool:
    try:
        normalize_nis(text)
        return True
    except ArchivoError:
        return False


def too_many_nis_message(count: int) -> str:
    return (f"Se recibieron {count} NIS; se admiten hasta {MAX_NIS} por documento o por "
            "consulta.")


def normalize_nis_list(values: Iterable[str], *, limit: int | None = MAX_NIS) -> list[str]:
    """Each value normalized, duplicates dropped, order kept; the first bad one raises,
    and so do more than ``limit`` distinct numbers."""
    out: dict[str, None] = {}
    for value in values:
        out[normalize_nis(value)] = None
    if limit is not None and len(out) > limit:
        raise ArchivoError(too_many_nis_message(len(out)))
    return list(out)


# Letters OCR confuses with digits. Reading them as digits is only right where a label
# guarantees a number (after "NIS:"), else "SOL" would become 501.
OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8"})


def ocr_digits(text: str) -> str:
    """The digits of ``text`` with OCR look-alike letters (O, l, I, |, S, B) read as digits."""
    return "".join(c for c in text.translate(OCR_DIGITS) if "0" <= c <= "9")


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
