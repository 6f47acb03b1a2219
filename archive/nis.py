"""Supply numbers (NIS) as people give them: refused with a Spanish message when malformed.

What a NIS looks like (its digit bounds) lives in ``archive.identifiers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ArchivoError
from .identifiers import NIS_DIGITS

MIN_DIGITS, MAX_DIGITS = NIS_DIGITS
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
