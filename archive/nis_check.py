"""Is a typed NIS plausible? Refusals for what cannot be one, warnings for what may be a typo.

``archive.nis`` refuses what cannot be a supply number (letters, too few or
too many digits). A well-formed number can still be a slip of the hand: a
digit too many or too few, or a number the imported registry does not know.
Forms show these warnings and ask for a second, confirmed submit; the API
returns them with the change. The registry is only consulted once one has
been imported: an empty registry cannot tell known numbers from unknown ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .identifiers import NIS_USUAL_DIGITS
from .nis import normalize_nis_list
from .review_reasons import known_nis, registry_imported

USUAL_DIGITS = NIS_USUAL_DIGITS  # every NIS of the utility has 7 digits today


@dataclass(frozen=True)
class NisWarning:
    nis: str
    message: str  # Spanish

    def as_dict(self) -> dict[str, str]:
        return {"nis": self.nis, "mensaje": self.message}


@dataclass(frozen=True)
class NisCheck:
    nis: list[str]  # normalized, in the order typed
    warnings: list[NisWarning]

    @property
    def doubtful(self) -> bool:
        return bool(self.warnings)

    @property
    def key(self) -> str:
        """What the person confirmed: the same numbers confirmed once need no second ask."""
        return ",".join(self.nis)


def nis_warnings(session: Session, nis: Iterable[str]) -> list[NisWarning]:
    """Warnings for normalized numbers; at most one per number."""
    nis = list(nis)
    registry = registry_imported(session)
    known = known_nis(session, nis) if registry else set()
    out: list[NisWarning] = []
    for n in nis:
        if registry and n not in known:
            out.append(NisWarning(n, f"El NIS {n} no figura en el padrón de suministros"
                                     f"{_length_note(n)}."))
        elif not registry and len(n) != USUAL_DIGITS:
            out.append(NisWarning(n, f"El NIS {n} tiene {len(n)} dígitos y los NIS tienen "
                                     f"{USUAL_DIGITS}: revise que no falte ni sobre ninguno."))
    return out


def check_nis(session: Session, values: Iterable[str]) -> NisCheck:
    """Normalize (raises ``ArchivoError`` in Spanish for what cannot be a NIS) and warn."""
    nis = normalize_nis_list(values)
    return NisCheck(nis, nis_warnings(session, nis))


def _length_note(nis: str) -> str:
    if len(nis) == USUAL_DIGITS:
        return ""
    return f" y tiene {len(nis)} dígitos (los NIS tienen {USUAL_DIGITS})"
