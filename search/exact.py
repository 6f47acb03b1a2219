"""Identifier lookups answered by the database, without the full-text index.

An NIS, a cédula, a RUC or an archive number typed alone is the most common
question at the desk ("everything about this supply"). The indexed columns
(``document_supplies.nis``, ``document_identifiers(kind, value)``,
``documents.archive_number``) answer it exactly and at once, and keep
answering when the index is being rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Executable, and_, or_, select, union
from sqlalchemy.orm import Session

from archive.localtime import local_date
from archive.models import Document, DocumentIdentifier, DocumentSupply
from archive.registry.models import SupplyAlias

from .entries import INDEXABLE, DocumentData, day_number, load_documents
from .parse import Clause, ExactRequest

DESCRIPTIONS = {
    "numero": "con el número {v} (NIS, cédula o RUC)",
    "nis": "del suministro NIS {v}",
    "cedula": "con la cédula {v}",
    "ruc": "con el RUC {v}",
    "archive_number": "con el número de archivo {v}",
}


# Kinds whose number, when no document has it, is looked for in the text of the pages.
TEXT_FALLBACK = ("numero", "nis", "cedula")
_FALLBACK_NOTES = {
    "nis": "Ningún documento está vinculado al NIS {v}; se muestran las páginas donde "
           "aparece ese número.",
    "cedula": "Ningún documento tiene registrada la cédula {v}; se muestran las páginas donde "
              "aparece ese número.",
}


def fallback_note(req: ExactRequest) -> str:
    """What a person is told when a NIS or cédula search shows pages that merely mention it."""
    note = _FALLBACK_NOTES.get(req.kind)
    return note.format(v=req.value) if note else ""


def _ruc_base(value: str):  # type: ignore[no-untyped-def]
    """RUC values whose base is ``value`` ("1234567" -> "1234567-8"), as an index range."""
    return and_(DocumentIdentifier.kind == "ruc", DocumentIdentifier.value >= value + "-",
                DocumentIdentifier.value < value + ".")


def matching_ids(session: Session, req: ExactRequest) -> set[int]:
    v = req.value
    stmt: Executable
    # A renumbered or merged supply keeps its old number searchable through its alias.
    current = select(SupplyAlias.nis).where(SupplyAlias.old_nis == v).scalar_subquery()
    by_nis = select(DocumentSupply.document_id).where(
        or_(DocumentSupply.nis == v, DocumentSupply.nis == current))
    by_id = lambda kind: select(DocumentIdentifier.document_id).where(  # noqa: E731
        DocumentIdentifier.kind == kind, DocumentIdentifier.value == v)
    if req.kind == "nis":
        stmt = by_nis
    elif req.kind in ("cedula", "ruc"):
        stmt = by_id(req.kind)
    elif req.kind == "archive_number":
        stmt = select(Document.id).where(Document.archive_number == v)
    else:  # a bare number: a supply, a person, or the base of a RUC
        stmt = union(by_nis, by_id("cedula"),
                     select(DocumentIdentifier.document_id).where(_ruc_base(v)))
    return set(session.scalars(stmt))


def effective_day(doc: DocumentData) -> int:
    return day_number(doc.document_date or local_date(doc.received_at))


def clause_matches(c: Clause, doc: DocumentData) -> bool:
    """The database-side meaning of a clause, as the index would apply it."""
    if c.field in ("date", "received"):
        day = effective_day(doc) if c.field == "date" else day_number(local_date(doc.received_at))
        hit = any((lo is None or day >= lo) and (hi is None or day <= hi) for lo, hi in c.values)
    else:
        have = {
            "nis": doc.nis,
            "doc_type": [doc.doc_type],
            "regional": [r.lower() for r in doc.regional],
            "archive_number": [doc.archive_number],
        }.get(c.field, doc.identifiers.get(c.field, []))
        if c.prefix:
            hit = any(h.startswith(v) for h in have for v in c.values)
        else:
            hit = any(v in have for v in c.values)
    return hit != c.negate


def lookup(session: Session, req: ExactRequest, clauses: Sequence[Clause]) -> list[DocumentData]:
    """Searchable documents matching ``req`` and every clause, newest first."""
    ids = matching_ids(session, req)
    docs = [d for d in load_documents(session, sorted(ids), with_pages=False).values()
            if d.status in INDEXABLE and all(clause_matches(c, d) for c in clauses)]
    docs.sort(key=lambda d: (effective_day(d), d.id), reverse=True)
    return docs


def describe(req: ExactRequest) -> str:
    return "Respuesta exacta de la base de datos: documentos " + \
        DESCRIPTIONS[req.kind].format(v=req.value) + "."
