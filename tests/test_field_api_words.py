"""The API describes a document in the same words as its page (issue 14)."""

from __future__ import annotations

from typing import Iterator

import pytest

from archive.db import session_scope
from archive.enums import DocumentStatus, LinkSource
from archive.models import Document, DocumentIdentifier, DocumentSupply
from tests.api_support import API, ApiArchive, make_api_archive
from tests.registry_helpers import add_document
from tests.search_support import add_supply


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("api_palabras"), immediate=False)
    add_supply(archive.services, "1000001", None)  # a registry exists: unknown NIS can be told
    yield archive
    archive.services.dispose()


def test_review_reasons_and_identifiers_read_as_on_the_page(arc: ApiArchive) -> None:
    doc_id = add_document(arc.services, 880101, [])
    with session_scope(arc.services.sessions) as db:
        doc = db.get(Document, doc_id)
        assert doc is not None
        doc.status = DocumentStatus.REVISAR
        doc.review_reasons = "nis_desconocido"
        db.add(DocumentSupply(document_id=doc_id, nis="9990001", source=LinkSource.OCR,
                              confidence=0.9, created_by="ocr"))
        db.add(DocumentIdentifier(document_id=doc_id, kind="cedula", value="3456789"))
    res = arc.client().get(f"{API}/documents/{doc_id}", headers=arc.headers("consulta"))
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["motivos_revision"] == [
        {"codigo": "nis_desconocido",
         "descripcion": "NIS 9990001 no figura en el padrón de suministros"}]
    assert body["identificadores"] == [{"tipo": "cedula", "tipo_nombre": "Cédula",
                                        "valor": "3456789"}]
