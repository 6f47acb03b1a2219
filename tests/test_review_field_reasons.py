"""Review reasons follow the document's current links and name the NIS they are about."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.db import read_scope, session_scope
from archive.editing import DocumentChanges, link_nis, set_links, unlink_nis, update_document
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import Document
from archive.registry import import_supplies, renumber_supply
from archive.review_reasons import describe, link_reasons
from archive.services import Services
from tests.registry_helpers import HEADER, rows, write
from tests.test_supply_file import make_document

ClientAs = Callable[[str], tuple[FlaskClient, str]]
REVISAR = DocumentStatus.REVISAR


@pytest.fixture
def registry(services: Services, tmp_path: Path) -> Services:
    """Supplies 1000000..1000003 are in the registry."""
    import_supplies(services, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    return services


def _reasons(services: Services, doc_id: int) -> str:
    with read_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        return doc.review_reasons


def _edit(services: Services, doc_id: int, change: Callable[..., object]) -> None:
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        change(s, doc)


def test_linking_and_unlinking_recompute_the_reasons(registry: Services) -> None:
    # A weak OCR reading of a number the registry lacks: no trustworthy NIS, and an unknown one.
    doc = make_document(registry, {"9990001": 0.54}, status=REVISAR, source=LinkSource.OCR,
                        reasons="sin_nis,nis_desconocido,ocr_baja_confianza")
    _edit(registry, doc, lambda s, d: link_nis(s, d, "1000001", actor="ana"))
    assert _reasons(registry, doc) == "nis_desconocido,ocr_baja_confianza"
    _edit(registry, doc, lambda s, d: unlink_nis(s, d, "9990001", actor="ana"))
    assert _reasons(registry, doc) == "ocr_baja_confianza"  # scan reasons stay
    _edit(registry, doc, lambda s, d: unlink_nis(s, d, "1000001", actor="ana"))
    assert _reasons(registry, doc) == "sin_nis,ocr_baja_confianza"
    _edit(registry, doc, lambda s, d: set_links(s, d, ["1000002"], actor="ana"))
    assert _reasons(registry, doc) == "ocr_baja_confianza"


def test_confirming_an_ocr_reading_by_hand_clears_its_reasons(registry: Services) -> None:
    doc = make_document(registry, {"9990001": 0.54}, status=REVISAR, source=LinkSource.OCR,
                        reasons="sin_nis,nis_desconocido")
    _edit(registry, doc, lambda s, d: link_nis(s, d, "9990001", actor="ana"))
    assert _reasons(registry, doc) == ""  # a person vouched for it (and was warned when typing)


def test_setting_the_type_clears_an_uncertain_type(registry: Services) -> None:
    doc = make_document(registry, ["1000001"], status=REVISAR, reasons="tipo_incierto")
    _edit(registry, doc, lambda s, d: update_document(
        s, d, DocumentChanges(doc_type=DocumentType.CONTRATO), actor="ana"))
    assert _reasons(registry, doc) == ""


def test_documents_out_of_review_keep_their_reasons_untouched(registry: Services) -> None:
    doc = make_document(registry, ["1000001"], status=DocumentStatus.LISTO)
    _edit(registry, doc, lambda s, d: unlink_nis(s, d, "1000001", actor="ana"))
    assert _reasons(registry, doc) == ""


def test_a_registry_import_recomputes_documents_in_review(services: Services,
                                                           tmp_path: Path) -> None:
    import_supplies(services, write(tmp_path / "a.csv", [HEADER, *rows(2)]), actor="t")
    doc = make_document(services, {"5550001": 0.9}, status=REVISAR, source=LinkSource.OCR,
                        reasons="nis_desconocido")
    import_supplies(services, write(tmp_path / "b.csv", [HEADER, *rows(1, start=5550001)]),
                    actor="t")
    assert _reasons(services, doc) == ""


def test_a_first_import_flags_ocr_numbers_it_does_not_know(services: Services,
                                                           tmp_path: Path) -> None:
    doc = make_document(services, {"5550001": 0.9}, status=REVISAR, source=LinkSource.OCR,
                        reasons="ocr_baja_confianza")
    import_supplies(services, write(tmp_path / "a.csv", [HEADER, *rows(2)]), actor="t")
    assert _reasons(services, doc) == "nis_desconocido,ocr_baja_confianza"


def test_renumbering_a_supply_recomputes_its_documents(registry: Services) -> None:
    doc = make_document(registry, {"1000002": 0.9}, status=REVISAR, source=LinkSource.OCR,
                        reasons="ocr_baja_confianza")
    renumber_supply(registry, "1000002", "7000002", actor="ana")
    assert _reasons(registry, doc) == "ocr_baja_confianza"  # the new number is known


def test_link_rules_and_labels_name_the_nis() -> None:
    ocr, manual = LinkSource.OCR, LinkSource.MANUAL
    assert link_reasons({}, set(), True) == ["sin_nis"]
    assert link_reasons({"1234567": (ocr, 0.5)}, set(), False) == ["sin_nis"]  # no registry
    assert link_reasons({"1234567": (ocr, 0.5)}, set(), True) == ["sin_nis", "nis_desconocido"]
    assert link_reasons({"1234567": (ocr, 0.9)}, {"1234567"}, True) == []
    assert link_reasons({"1234567": (manual, 1.0)}, set(), True) == []
    assert describe(["nis_desconocido"], ["1000001", "1234567"], {"1234567"}) == [
        ("nis_desconocido", "NIS 1234567 no figura en el padrón de suministros")]
    assert describe(["sin_nis"], [], set()) == [("sin_nis", "No se encontró ningún NIS")]
    [(code, text)] = describe(["sin_nis"], ["1234567"], set())
    assert code == "sin_nis" and "NIS 1234567" in text and "No se encontró" not in text


def test_document_page_and_queue_agree_with_the_links(app: Flask, client_as: ClientAs,
                                                      registry: Services) -> None:
    doc = make_document(registry, {"9990001": 0.54}, status=REVISAR, source=LinkSource.OCR,
                        reasons="sin_nis,nis_desconocido", pages=["texto"])
    client, token = client_as("archivista")
    page = client.get(f"/documentos/{doc}").get_data(as_text=True)
    assert "NIS 9990001 no figura en el padrón de suministros" in page
    assert "No se encontró ningún NIS" not in page  # it has one, read with little certainty
    res = client.post(f"/documentos/{doc}/nis/vincular",
                      data={"nis": "1000001", "csrf_token": token})
    assert res.status_code == 302
    page = client.get(f"/documentos/{doc}").get_data(as_text=True)
    assert "NIS 1000001 vinculado al documento." in page
    assert "leído con poca seguridad" not in page and "No se encontró ningún NIS" not in page
    assert "NIS 9990001 no figura en el padrón de suministros" in page
    queue = client.get("/revision").get_data(as_text=True)
    assert "NIS 9990001 no figura en el padrón de suministros" in queue
