"""Document edits and review decisions: rules, audit, re-index flag."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from archive import editing
from archive.audit import verify_chain
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import AuditEvent, Document, DocumentSupply
from archive.services import Services
from tests.registry_helpers import add_document


def _review_doc(svc: Services, number: int, ocr_nis: dict[str, float]) -> int:
    doc_id = add_document(svc, number, [])
    with session_scope(svc.sessions) as s:
        doc = s.get(Document, doc_id)
        doc.status = DocumentStatus.REVISAR
        doc.review_reasons = "nis_desconocido"
        for nis, conf in ocr_nis.items():
            s.add(DocumentSupply(document_id=doc_id, nis=nis, source=LinkSource.OCR,
                                 confidence=conf, created_by="ocr"))
    return doc_id


def _actions(svc: Services) -> list[str]:
    with session_scope(svc.sessions) as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert verify_chain(events) == []
        return [e.action for e in events if e.action.startswith(("documento", "revision"))]


def test_update_document_records_diff_and_fixes_type(services: Services) -> None:
    doc_id = add_document(services, 1, ["1234567"])
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        doc.status = DocumentStatus.LISTO
        diff = editing.update_document(s, doc, editing.DocumentChanges(
            doc_type=DocumentType.CROQUIS, title=" Croquis Capiatá ",
            document_date=dt.date(2024, 3, 1)), actor="ana")
        assert diff == {"tipo": ["otro", "croquis"], "titulo": ["", "Croquis Capiatá"],
                        "fecha": [None, "2024-03-01"]}
        assert doc.doc_type_fixed and doc.index_due
        again = editing.update_document(s, doc, editing.DocumentChanges(title="Croquis Capiatá"),
                                        actor="ana")
        assert again == {}
        cleared = editing.update_document(s, doc, editing.DocumentChanges(
            expediente="", clear_date=True), actor="ana")
        assert cleared == {"fecha": ["2024-03-01", None]}  # expediente was already empty
        editing.update_document(s, doc, editing.DocumentChanges(expediente="123/2024"), actor="ana")
        editing.update_document(s, doc, editing.DocumentChanges(expediente=" "), actor="ana")
        assert doc.expediente is None
    assert _actions(services).count("documento.editar") == 4


def test_link_and_unlink_are_audited_and_normalized(services: Services) -> None:
    doc_id = _review_doc(services, 2, {"7654321": 0.5})
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert editing.link_nis(s, doc, "1.234.567", actor="ana")
        assert not editing.link_nis(s, doc, "1234567", actor="ana")  # already there
        assert editing.link_nis(s, doc, "7654321", actor="ana")  # OCR link confirmed
        link = s.get(DocumentSupply, (doc_id, "7654321"))
        assert link.source is LinkSource.MANUAL and link.confidence == 1.0
        assert editing.unlink_nis(s, doc, "1234567", actor="ana")
        assert not editing.unlink_nis(s, doc, "1234567", actor="ana")
        assert doc.nis_list == ["7654321"]
        with pytest.raises(Exception, match="no es un NIS válido"):
            editing.link_nis(s, doc, "12ab", actor="ana")
    assert _actions(services) == ["documento.vincular", "documento.vincular",
                                  "documento.desvincular"]


def test_confirm_needs_a_nis_and_review_state(services: Services) -> None:
    empty = _review_doc(services, 3, {})
    ok = _review_doc(services, 4, {"1234567": 0.6})
    with session_scope(services.sessions) as s:
        with pytest.raises(editing.EditRefused, match="no tiene ningún NIS"):
            editing.confirm(s, s.get(Document, empty), actor="ana")
        doc = s.get(Document, ok)
        editing.confirm(s, doc, actor="ana")
        assert doc.status is DocumentStatus.LISTO and doc.review_reasons == ""
        assert doc.supplies[0].confidence == 1.0
        with pytest.raises(editing.EditRefused, match="no está para revisar"):
            editing.confirm(s, doc, actor="ana")


def test_correct_replaces_links_and_type(services: Services) -> None:
    doc_id = _review_doc(services, 5, {"1111111": 0.5, "2222222": 0.9})
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        editing.correct(s, doc, ["2222222", "3333333"], actor="ana",
                        doc_type=DocumentType.CONTRATO)
        assert doc.nis_list == ["2222222", "3333333"]
        assert doc.status is DocumentStatus.LISTO and doc.doc_type is DocumentType.CONTRATO


def test_reject_keeps_the_document_with_reason(services: Services) -> None:
    doc_id = _review_doc(services, 6, {})
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        with pytest.raises(editing.EditRefused, match="por qué"):
            editing.reject(s, doc, "  ", actor="ana")
        editing.reject(s, doc, "hoja en blanco", actor="ana")
        assert doc.status is DocumentStatus.ERROR and doc.error_code == editing.REJECTED
        assert "hoja en blanco" in doc.error_message


def test_bulk_confirm_reports_what_it_could_not_do(services: Services) -> None:
    a = _review_doc(services, 7, {"1234567": 0.7})
    b = _review_doc(services, 8, {})
    with session_scope(services.sessions) as s:
        result = editing.confirm_many(s, [a, b], actor="ana")
    assert result.confirmed == ["ARC-2026-000007"]
    assert list(result.refused) == ["ARC-2026-000008"]
    with session_scope(services.sessions) as s:
        assert s.get(Document, a).status is DocumentStatus.LISTO
        assert s.get(Document, b).status is DocumentStatus.REVISAR


def test_metadata_edit_waits_for_the_pipeline_but_notes_do_not(services: Services) -> None:
    doc_id = add_document(services, 9, ["1234567"])  # status recibido: OCR still to come
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        with pytest.raises(editing.EditRefused, match="se está procesando"):
            editing.update_document(s, doc, editing.DocumentChanges(title="x"), actor="ana")
        editing.add_note(s, doc.archive_number, "  entregado por el cliente  ", actor="ana",
                         filename="a.pdf")
        with pytest.raises(editing.EditRefused, match="2000"):
            editing.add_note(s, doc.archive_number, "x" * 2001, actor="ana")
    with session_scope(services.sessions) as s:
        note = s.scalar(select(AuditEvent).where(AuditEvent.action == editing.NOTE_ACTION))
        assert note.details == {"notas": "entregado por el cliente", "archivo": "a.pdf"}
