"""Every timestamp the API returns is ISO 8601 in Paraguay's time with its offset (issue 14).

Instants are stored in UTC; a client must never have to guess whether a bare
``2026-11-01T12:30:00`` is UTC or local, so every reply spells them the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest

from archive.audit import record
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.localtime import iso_local
from archive.models import Document, DocumentSupply
from tests.api_support import API, ApiArchive, make_api_archive
from tests.registry_helpers import add_document
from tests.search_support import add_supply

NIS = "4992383"
RECEIVED_UTC = dt.datetime(2026, 11, 1, 12, 30, 5, 123456)  # naive, as SQLite hands it back
RECEIVED_LOCAL = "2026-11-01T09:30:05-03:00"
LOCAL_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$")


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("api_horas"), immediate=False)
    add_supply(archive.services, NIS, None)
    yield archive
    archive.services.dispose()


@pytest.fixture(scope="module")
def doc_id(arc: ApiArchive) -> int:
    number = add_document(arc.services, 880001, [NIS])
    with session_scope(arc.services.sessions) as db:
        doc = db.get(Document, number)
        assert doc is not None
        doc.received_at = RECEIVED_UTC
        doc.status = DocumentStatus.LISTO
        doc.document_date = dt.date(2026, 10, 31)
        for link in db.query(DocumentSupply).filter_by(document_id=number):
            link.created_at = RECEIVED_UTC
        record(db, "archivista", "documento.editar", "documento", doc.archive_number,
               {"cambios": {"titulo": "Contrato"}})
    return number


def _get(arc: ApiArchive, url: str) -> dict[str, Any]:
    res = arc.client().get(url, headers=arc.headers("consulta"))
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.get_json()


def test_one_formatter_local_with_offset() -> None:
    assert iso_local(RECEIVED_UTC) == RECEIVED_LOCAL
    assert iso_local(RECEIVED_UTC.replace(tzinfo=dt.timezone.utc)) == RECEIVED_LOCAL
    assert iso_local(dt.date(2026, 11, 1)) == "2026-11-01"  # a day stays a local day
    assert iso_local(None) is None


def test_document_reply_is_local_with_offset(arc: ApiArchive, doc_id: int) -> None:
    body = _get(arc, f"{API}/documents/{doc_id}")
    assert body["recibido"] == RECEIVED_LOCAL
    assert body["fecha"] == "2026-10-31"
    assert [v["creado"] for v in body["vinculos"]] == [RECEIVED_LOCAL]
    assert body["historial"] and all(LOCAL_INSTANT.match(e["fecha"]) for e in body["historial"])


def test_search_reply_is_local_with_offset(arc: ApiArchive, doc_id: int) -> None:
    body = _get(arc, f"{API}/search?q=nis:{NIS}")
    hits = [h for h in body["resultados"] if h["documento_id"] == doc_id]
    assert hits and hits[0]["recibido"] == RECEIVED_LOCAL
    assert hits[0]["fecha"] == "2026-10-31"


def test_supply_reply_is_local_with_offset(arc: ApiArchive, doc_id: int) -> None:
    body = _get(arc, f"{API}/supplies/{NIS}")
    docs = [d for g in body["documentos_por_tipo"] for d in g["documentos"] if d["id"] == doc_id]
    assert docs and docs[0]["recibido"] == RECEIVED_LOCAL
    assert docs[0]["vinculado"] == RECEIVED_LOCAL
    stamps = _timestamps(body)
    assert stamps and all(LOCAL_INSTANT.match(s) for s in stamps), stamps


def _timestamps(value: object) -> list[str]:
    """Every string in a JSON tree that looks like an instant (has a time part)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _timestamps(v)]
    if isinstance(value, list):
        return [s for v in value for s in _timestamps(v)]
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        return [value]
    return []
