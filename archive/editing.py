"""Changes people make to a document: metadata, supply links, review decisions.

Shared by the web pages, the HTTP API and the CLI so each rule lives once.
Every function works inside the caller's transaction, records an audit
event and marks the document for re-indexing; after the commit the caller
wakes the indexer (``search.tasks.request_indexing``).

Review decisions (``bandeja de revisión``):

* ``confirm``: the links and type are right -> ``listo``; needs at least one NIS.
* ``correct``: set the NIS list (and optionally the type), then confirm.
* ``reject``: the scan does not belong in the archive (blank, foreign paper,
  wrong scan) -> ``error`` with code ``rechazado`` and the reason; the
  original stays stored (nothing is deleted) and can be re-processed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, review_reasons
from .enums import DocumentStatus, DocumentType, LinkSource
from .errors import ArchivoError
from .models import Document, DocumentSupply
from .nis import normalize_nis, normalize_nis_list
from .nis_check import NisWarning, nis_warnings
from .signals import mark_document_changed

REJECTED = "rechazado"
NOTE_ACTION = "documento.nota"
MAX_NOTE = 2000
# While the pipeline owns a document it rewrites date, expediente, OT and type at the end.
IN_PIPELINE = frozenset({DocumentStatus.RECIBIDO, DocumentStatus.PROCESANDO})


class EditRefused(ArchivoError):
    """The change is not allowed in the document's current state."""


@dataclass(frozen=True)
class DocumentChanges:
    """Fields a person may set; ``None`` means "leave as is".

    An empty string clears expediente or OT; ``clear_date`` clears the date.
    """

    doc_type: DocumentType | None = None
    title: str | None = None
    document_date: dt.date | None = None
    expediente: str | None = None
    ot_number: str | None = None
    clear_date: bool = False


def update_document(session: Session, doc: Document, changes: DocumentChanges, *,
                    actor: str) -> dict[str, list[object]]:
    """Apply ``changes``; returns what changed as {field: [before, after]} (also audited)."""
    diff: dict[str, list[object]] = {}
    if doc.status in IN_PIPELINE:
        raise EditRefused(f"El documento {doc.archive_number} todavía se está procesando "
                          f"(estado: {doc.status.label}); espere a que termine para editarlo.")

    def put(attr: str, label: str, value: object, *, clear: bool = False) -> None:
        before = getattr(doc, attr)
        if clear and before is not None:
            setattr(doc, attr, None)
            diff[label] = [_plain(before), None]
        elif value is not None and value != before:
            setattr(doc, attr, value)
            diff[label] = [_plain(before), _plain(value)]

    if changes.title is not None and len(changes.title) > 300:
        raise EditRefused("El título no puede tener más de 300 caracteres.")
    put("doc_type", "tipo", changes.doc_type)
    if changes.doc_type is not None:
        doc.doc_type_fixed = True  # OCR re-runs no longer override a person's choice
        doc.doc_type_confidence = 1.0
    put("title", "titulo", changes.title.strip() if changes.title is not None else None)
    put("document_date", "fecha", changes.document_date, clear=changes.clear_date)
    put("expediente", "expediente", _clean_code(changes.expediente, "expediente"),
        clear=changes.expediente is not None and not changes.expediente.strip())
    put("ot_number", "ot", _clean_code(changes.ot_number, "OT"),
        clear=changes.ot_number is not None and not changes.ot_number.strip())
    if diff:
        mark_document_changed(doc)
        review_reasons.refresh(session, doc, type_fixed="tipo" in diff)
        audit.record(session, actor, "documento.editar", "documento", doc.archive_number, diff)
    return diff


def add_note(session: Session, archive_number: str, text: str, *, actor: str,
             filename: str | None = None) -> None:
    """A note from the person who handed the paper in, kept in the document's history."""
    text = text.strip()
    if not text:
        return
    if len(text) > MAX_NOTE:
        raise EditRefused(f"Las notas admiten hasta {MAX_NOTE} caracteres.")
    details: dict[str, object] = {"notas": text}
    if filename:
        details["archivo"] = filename
    audit.record(session, actor, NOTE_ACTION, "documento", archive_number, details)


def _clean_code(value: str | None, label: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 40:
        raise EditRefused(f"El número de {label} no puede tener más de 40 caracteres.")
    return value or None


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, DocumentType)):
        return str(value)
    return value


def link_nis(session: Session, doc: Document, nis: str, *, actor: str,
             source: LinkSource = LinkSource.MANUAL) -> bool:
    """Link a supply; an OCR link to the same NIS becomes a confirmed manual one."""
    nis = normalize_nis(nis)
    link = session.get(DocumentSupply, (doc.id, nis))
    if link is not None and link.source is not LinkSource.OCR and link.confidence >= 1.0:
        return False
    if link is None:
        session.add(DocumentSupply(document_id=doc.id, nis=nis, source=source, confidence=1.0,
                                   created_by=actor))
    else:
        link.source, link.confidence, link.created_by = source, 1.0, actor
    session.flush()
    session.refresh(doc, ["supplies"])
    mark_document_changed(doc)
    review_reasons.refresh(session, doc)
    audit.record(session, actor, "documento.vincular", "documento", doc.archive_number,
                 {"nis": nis, "origen": source.value})
    return True


def unlink_nis(session: Session, doc: Document, nis: str, *, actor: str) -> bool:
    nis = normalize_nis(nis)
    link = session.get(DocumentSupply, (doc.id, nis))
    if link is None:
        return False
    session.delete(link)
    session.flush()
    session.refresh(doc, ["supplies"])
    mark_document_changed(doc)
    review_reasons.refresh(session, doc)
    audit.record(session, actor, "documento.desvincular", "documento", doc.archive_number,
                 {"nis": nis, "origen_anterior": link.source.value})
    return True


def set_links(session: Session, doc: Document, nis_list: Iterable[str], *,
              actor: str) -> list[NisWarning]:
    """Make the document's NIS exactly ``nis_list`` (all confirmed).

    One pass over the current links and one flush, whatever the list's length (at most
    ``MAX_NIS``): a long list must not hold the database's write lock for minutes. The
    change is audited once per direction, naming every NIS linked or unlinked.
    Returns the warnings about the numbers newly linked (see ``archive.nis_check``)
    so a caller without a confirmation step (the API) can pass them on.
    """
    wanted = sorted(normalize_nis_list(nis_list))
    current = {link.nis: link for link in doc.supplies}
    removed = sorted(set(current) - set(wanted))
    added = [nis for nis in wanted if nis not in current]
    confirmed = [nis for nis in wanted if nis in current and _unconfirmed(current[nis])]
    for nis in removed:
        session.delete(current[nis])
    session.add_all(DocumentSupply(document_id=doc.id, nis=nis, source=LinkSource.MANUAL,
                                   confidence=1.0, created_by=actor) for nis in added)
    for nis in confirmed:
        link = current[nis]
        link.source, link.confidence, link.created_by = LinkSource.MANUAL, 1.0, actor
    if removed or added or confirmed:
        session.flush()
        session.refresh(doc, ["supplies"])
        mark_document_changed(doc)
        review_reasons.refresh(session, doc)
    if removed:
        audit.record(session, actor, "documento.desvincular", "documento", doc.archive_number,
                     {"nis": _one_or_list(removed), "origen_anterior": _one_or_list(
                         sorted({current[n].source.value for n in removed}))})
    if added or confirmed:
        audit.record(session, actor, "documento.vincular", "documento", doc.archive_number,
                     {"nis": _one_or_list(sorted(added + confirmed)),
                      "origen": LinkSource.MANUAL.value})
    return nis_warnings(session, added)


def _unconfirmed(link: DocumentSupply) -> bool:
    """What ``link_nis`` would rewrite: an OCR link, or one not fully trusted."""
    return link.source is LinkSource.OCR or link.confidence < 1.0


def _one_or_list(values: list[str]) -> str | list[str]:
    """One value stays plain, as ``link_nis`` records it (the supply page searches by it)."""
    return values[0] if len(values) == 1 else values


def _require_review(doc: Document) -> None:
    if doc.status is not DocumentStatus.REVISAR:
        raise EditRefused(f"El documento {doc.archive_number} no está para revisar "
                          f"(estado: {doc.status.label}).")


def confirm(session: Session, doc: Document, *, actor: str) -> None:
    """A person checked the document: its links are confirmed and it is ``listo``."""
    _require_review(doc)
    if not doc.supplies:
        raise EditRefused(f"El documento {doc.archive_number} no tiene ningún NIS: "
                          "agregue al menos uno (corregir) antes de confirmar.")
    for link in doc.supplies:
        link.confidence = 1.0
    reasons = doc.review_reasons
    doc.status = DocumentStatus.LISTO
    doc.review_reasons = ""
    mark_document_changed(doc)
    audit.record(session, actor, "revision.confirmar", "documento", doc.archive_number,
                 {"motivos": reasons, "nis": doc.nis_list})


def correct(session: Session, doc: Document, nis_list: Iterable[str], *, actor: str,
            doc_type: DocumentType | None = None) -> None:
    _require_review(doc)
    nis_list = list(nis_list)
    if not nis_list:
        raise EditRefused("Indique al menos un NIS para corregir el documento.")
    set_links(session, doc, nis_list, actor=actor)
    if doc_type is not None:
        update_document(session, doc, DocumentChanges(doc_type=doc_type), actor=actor)
    confirm(session, doc, actor=actor)


def reject(session: Session, doc: Document, reason: str, *, actor: str) -> None:
    _require_review(doc)
    reason = reason.strip()
    if not reason:
        raise EditRefused("Indique por qué se rechaza el documento.")
    doc.status = DocumentStatus.ERROR
    doc.error_code = REJECTED
    doc.error_message = f"Rechazado en revisión por {actor}: {reason[:500]}"
    mark_document_changed(doc)
    audit.record(session, actor, "revision.rechazar", "documento", doc.archive_number,
                 {"motivo": reason[:500], "motivos": doc.review_reasons})


@dataclass(frozen=True)
class BulkResult:
    confirmed: list[str]
    refused: dict[str, str]  # archive number -> Spanish reason


def confirm_many(session: Session, document_ids: Iterable[int], *, actor: str) -> BulkResult:
    """Confirm a selection; documents that cannot be confirmed are reported, not fatal."""
    confirmed: list[str] = []
    refused: dict[str, str] = {}
    docs = session.scalars(select(Document).where(Document.id.in_(list(document_ids)))
                           .order_by(Document.id)).all()
    for doc in docs:
        try:
            with session.begin_nested():
                confirm(session, doc, actor=actor)
            confirmed.append(doc.archive_number)
        except EditRefused as exc:
            refused[doc.archive_number] = str(exc)
    return BulkResult(confirmed, refused)
