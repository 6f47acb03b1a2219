"""Why a document waits in review, computed from its current links, and said with its NIS.

Some reasons come from reading the scan (no text, low OCR confidence, batch
separators) and stay until the document is processed again. Two depend on the
supply links and the registry, which people change after ingest: ``sin_nis``
(no link worth trusting) and ``nis_desconocido`` (a number read by OCR that is
not in the imported registry). Ingest (``ingest.finish``), every edit
(``archive.editing``) and a registry import recompute them here, so the reasons
shown never contradict the links shown beside them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .labels import review_label
from .enums import DocumentStatus, LinkSource
from .models import Document, Supply

GOOD_LINK = 0.80  # an OCR link this confident needs no human check
NO_NIS, UNKNOWN_NIS, UNSURE_TYPE = "sin_nis", "nis_desconocido", "tipo_incierto"
LINK_REASONS = frozenset({NO_NIS, UNKNOWN_NIS})
ORDER = ("sin_texto", NO_NIS, UNKNOWN_NIS, "ocr_baja_confianza", UNSURE_TYPE,
         "sin_separador", "separador_invalido")


def link_reasons(links: Mapping[str, tuple[LinkSource, float]], known: Collection[str],
                 registry_used: bool) -> list[str]:
    """``sin_nis`` / ``nis_desconocido`` for links {nis: (source, confidence)}.

    A person's link (any source but OCR) is trusted; an OCR link only when
    confident. Only OCR numbers are checked against the registry: a person was
    warned when typing theirs. An empty registry cannot tell known from unknown.
    """
    reasons: list[str] = []
    trusted = [n for n, (src, conf) in links.items()
               if src is not LinkSource.OCR or conf >= GOOD_LINK]
    if not trusted:
        reasons.append(NO_NIS)
    if registry_used and any(src is LinkSource.OCR and n not in known
                             for n, (src, _) in links.items()):
        reasons.append(UNKNOWN_NIS)
    return reasons


def ordered(codes: Iterable[str]) -> list[str]:
    """Reasons without repeats, in the fixed order pages list them."""
    unique = list(dict.fromkeys(c for c in codes if c))
    rank = {c: i for i, c in enumerate(ORDER)}
    return sorted(unique, key=lambda c: rank.get(c, len(ORDER)))


def registry_imported(session: Session) -> bool:
    return session.scalar(select(Supply.nis).limit(1)) is not None


def known_nis(session: Session, nis: Iterable[str]) -> set[str]:
    wanted = list(set(nis))
    if not wanted:
        return set()
    return set(session.scalars(select(Supply.nis).where(Supply.nis.in_(wanted))))


def refresh(session: Session, doc: Document, *, type_fixed: bool = False) -> None:
    """Recompute the link reasons of a document in review (others states keep none)."""
    if doc.status is not DocumentStatus.REVISAR:
        return
    session.flush()
    session.refresh(doc, ["supplies"])
    links = {l.nis: (l.source, l.confidence) for l in doc.supplies}
    kept = [c for c in (doc.review_reasons or "").split(",")
            if c and c not in LINK_REASONS and not (type_fixed and c == UNSURE_TYPE)]
    fresh = link_reasons(links, known_nis(session, links), registry_imported(session))
    doc.review_reasons = ",".join(ordered(kept + fresh))


def refresh_all(session: Session, document_ids: Iterable[int] | None = None) -> int:
    """After a registry import or renumbering: documents in review; returns how many changed."""
    query = select(Document).where(Document.status == DocumentStatus.REVISAR)
    if document_ids is not None:
        query = query.where(Document.id.in_(list(document_ids)))
    changed = 0
    for doc in session.scalars(query).all():
        before = doc.review_reasons
        refresh(session, doc)
        changed += doc.review_reasons != before
    return changed


def describe(codes: Iterable[str], nis: Sequence[str], unknown: Collection[str]
             ) -> list[tuple[str, str]]:
    """(code, Spanish text) per reason, naming the numbers the reason is about."""
    out: list[tuple[str, str]] = []
    for code in codes:
        if code == NO_NIS and nis:  # only weak OCR readings are linked
            out.append((code, f"{_nis_words(nis)} leído{'s' if len(nis) > 1 else ''} con poca "
                              "seguridad: confirme o corrija"))
        elif code == UNKNOWN_NIS and unknown:
            missing = [n for n in nis if n in unknown] or sorted(unknown)
            verb = "no figuran" if len(missing) > 1 else "no figura"
            out.append((code, f"{_nis_words(missing)} {verb} en el padrón de suministros"))
        elif code:
            out.append((code, review_label(code)))
    return out


def describe_stored(session: Session, codes: Iterable[str], nis: Sequence[str]
                    ) -> list[tuple[str, str]]:
    """``describe`` looking up which of ``nis`` are in the registry."""
    codes = list(codes)
    unknown: set[str] = set()
    if UNKNOWN_NIS in codes:
        unknown = set(nis) - known_nis(session, nis)
    return describe(codes, nis, unknown)


def _nis_words(nis: Sequence[str]) -> str:
    return ("NIS " + ", ".join(nis)) if len(nis) <= 5 else f"NIS {', '.join(nis[:5])}…"
