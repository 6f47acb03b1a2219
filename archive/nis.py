"""Supply numbers (NIS): digits only, variable length (7 today)."""

from __future__ import annotations

import re

from .errors import ArchivoError

MIN_DIGITS, MAX_DIGITS = 5, 12
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
