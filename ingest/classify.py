"""Document type from OCR text, by a small weighted keyword table.

A rule table rather than a trained model: the archive has a dozen fixed
forms whose titles say what they are, the table is easy for the archive staff
to audit and extend, and it needs no training data. A phrase found in a
title line (uppercase, or a short line at the top of the first page) weighs
``TITLE_FACTOR`` times more, because bodies of one type often mention another
("... solicita un certificado de estado de cuenta" in a notary's note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from archive.identifiers import fold_accents

__all__ = ["DOC_TYPES", "OTHER", "Classification", "classify"]

OTHER = "otro"
TITLE_FACTOR = 3.0
MIN_SCORE = 2.5  # below this the evidence is a stray word, not a document type
OTHER_CONFIDENCE = 0.2
TITLE_SCAN_LINES = 15  # non-empty lines of the first page searched for a title
TOP_LINES = 6  # short lines this close to the top count as titles even in lower case
TOP_LINE_MAX_CHARS = 60


@dataclass(frozen=True, slots=True)
class Classification:
    """Best type, a 0..1 confidence from its margin over the runner-up, and every type's score."""

    doc_type: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)


class _Rule(NamedTuple):
    """A pattern on lower-case accent-folded text; each rule counts once per document."""

    pattern: str
    weight: float
    title: bool  # may name the document, so it weighs TITLE_FACTOR more in a title line


def _T(pattern: str, weight: float) -> _Rule:
    """A phrase that names a document type ("ORDEN DE TRABAJO")."""
    return _Rule(pattern, weight, True)


def _C(pattern: str, weight: float) -> _Rule:
    """A context word that supports a type but never names it ("Policía" is no denuncia)."""
    return _Rule(pattern, weight, False)


_RULES: dict[str, list[_Rule]] = {
    "contrato": [
        _T(r"contrato de (suministro|servicio|provision)", 3.0),
        _T(r"\bcontrato\b", 0.5),
        _T(r"potencia contratada", 1.5),
        _T(r"en adelante (el|la) (cliente|proveedora|usuari[oa]|empresa)", 1.5),
        _T(r"se conviene|las partes convienen", 1.0),
        _C(r"\btarifa\b", 0.5),
    ],
    "croquis": [
        _T(r"\bcroquis\b", 3.0),
        _T(r"croquis de ubicacion|plano de ubicacion", 1.0),
        _T(r"puesto de transformacion", 1.5),
        _C(r"\bposte\b", 1.0),
        _C(r"\bpt ?- ?\d", 1.0),
        _C(r"\bvivienda\b", 0.5),
    ],
    "expediente": [
        _T(r"\bexpediente\b", 2.0),
        _T(r"\bexpte\b", 1.5),
        _T(r"mesa de entradas?", 2.0),
        _C(r"\basunto\b", 1.0),
        _C(r"quien suscribe", 1.0),
        _C(r"se dirige a usted|me dirijo a usted", 0.5),
    ],
    "nota_escribania": [
        _T(r"\bescribania\b", 3.0),
        _T(r"\bescriban[oa]s?\b", 2.0),
        _T(r"notari[oa] public[oa]", 2.5),
        _T(r"registro notarial", 2.0),
        _T(r"\bescritura\b", 1.5),
        _C(r"\besc\. ", 1.0),
        _C(r"transferencia del inmueble", 1.0),
    ],
    "certificado_estado_cuenta": [
        _T(r"certificado de estado de cuenta", 3.0),
        _C(r"estado de cuenta", 1.0),
        _T(r"se certifica|certificamos", 2.0),
        _T(r"no registra deuda|libre de deuda", 2.0),
        _T(r"\bcertificad[oa]\b", 0.5),
    ],
    "orden_trabajo": [
        _T(r"orden de trabajo", 3.0),
        _T(r"\bo\.? ?t\.? ?(n\b|nro|no\b|#|:)", 1.5),
        _T(r"tecnico responsable|tecnico actuante", 2.0),
        _C(r"\bresultado\s*:", 1.0),
        _C(r"\bmotivo\s*:", 0.5),
        _C(r"cambio de medidor|reconexion|verificacion de medidor|corte por deuda", 0.5),
        _C(r"fecha de emision", 0.5),
    ],
    "reclamo_electrodomestico": [
        _C(r"\breclamos?\b", 1.5),
        _C(r"\breclamante\b", 1.0),
        _T(r"\bartefactos?\b", 2.0),
        _T(r"electrodomestic[oa]s?", 2.5),
        _C(r"\bdanad[oa]s?\b|\bse dano\b", 1.0),
        _T(r"variacion de tension|sobretension|sobre tension|descarga electrica", 1.5),
        _T(r"comite de danos", 2.0),
        _C(r"\b(heladera|televisor|acondicionador de aire|lavarropas|microondas|computadora"
           r"|ventilador|freezer|congeladora)\b", 1.0),
    ],
    "denuncia_robo_medidor": [
        _T(r"\bdenuncia\b", 2.0),
        _T(r"\brobo\b", 2.0),
        _T(r"\bhurto\b", 2.0),
        _T(r"(robo|hurto|sustraccion) (de|del) medidor", 2.0),
        _C(r"comisaria|policia", 1.5),
        _C(r"sin medicion", 1.0),
    ],
    "devolucion_garantia": [
        _T(r"devolucion de (la )?garantia", 3.0),
        _C(r"garantia de consumo", 1.0),
        _C(r"\bdevolucion\b", 1.0),
        _T(r"monto de la garantia", 1.5),
        _C(r"\breintegro\b", 1.0),
    ],
    "acuerdo_pago": [
        _T(r"acuerdo de pago|convenio de pago|plan de pago", 3.0),
        _C(r"\bcuotas?\b", 1.0),
        _T(r"reconoce (la|su) deuda", 2.0),
        _C(r"deuda total", 1.0),
        _T(r"refinanciacion|fraccionamiento", 2.0),
    ],
    "bonificacion_personal": [
        _T(r"\bbonificacion\b", 3.0),
        _T(r"personal de (la )?(ande|empresa)", 2.0),
        _C(r"\bfuncionari[oa]s?\b", 1.5),
        _C(r"\bjubilad[oa]s?\b", 1.0),
        _C(r"\blegajo\b", 1.5),
        _C(r"\bdescuento\b", 1.0),
    ],
    "alta_baja": [
        _T(r"solicitud de (alta|baja)", 3.0),
        _T(r"\b(alta|baja) (de|del) (suministro|servicio|medidor)", 1.5),
        _C(r"\balta\b(?! tension)", 1.0),
        _C(r"\bbaja\b(?! tension)", 0.5),
        _T(r"conexion nueva|nueva conexion", 2.0),
        _T(r"retiro de medidor|corte definitivo|desconexion definitiva", 1.5),
    ],
}
DOC_TYPES: tuple[str, ...] = (*_RULES, OTHER)
_COMPILED = {t: [(re.compile(r.pattern), r.weight, r.title) for r in rules]
             for t, rules in _RULES.items()}
_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", fold_accents(text).lower()).strip()


def _is_title(line: str, index: int) -> bool:
    """A line that names the document: no "Field: value", mostly capitals or short at the top."""
    if ":" in line:
        return False
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.7 * len(letters):
        return True
    return index < TOP_LINES and len(line) <= TOP_LINE_MAX_CHARS


def _title_text(text: str) -> str:
    """Title lines of the first page (pages are separated by form feeds), normalised."""
    first_page = text.split("\f", 1)[0]
    lines = [ln.strip() for ln in first_page.splitlines() if ln.strip()][:TITLE_SCAN_LINES]
    titles = [ln for i, ln in enumerate(lines) if _is_title(ln, i)]
    return _normalise(" | ".join(titles))  # the bar keeps a phrase from spanning two lines


def _scores(text: str) -> dict[str, float]:
    body, title = _normalise(text), _title_text(text)
    scores: dict[str, float] = {}
    for doc_type, rules in _COMPILED.items():
        total = 0.0
        for pattern, weight, can_title in rules:
            if can_title and title and pattern.search(title):
                total += weight * TITLE_FACTOR
            elif pattern.search(body):
                total += weight
        scores[doc_type] = total
    return scores


def classify(text: str) -> Classification:
    """Type of the document whose OCR text is ``text``; ``otro`` when no type has enough evidence.

    Confidence is (best - second) / (best + 2): near 0 when two types tie,
    approaching 1 when one type has strong evidence and the others none.
    """
    scores = _scores(text)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best_type, best), (_, second) = ranked[0], ranked[1]
    if best < MIN_SCORE:
        return Classification(OTHER, OTHER_CONFIDENCE, scores)
    return Classification(best_type, round((best - second) / (best + 2.0), 3), scores)
