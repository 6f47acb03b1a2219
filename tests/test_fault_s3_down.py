"""S3 goes down during ingest: uploads answer 503 in Spanish, nothing accepted is lost, and
the queued work finishes once the storage is back (a private SeaweedFS, stopped and restarted
on the same ports and data folder)."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.errors import StorageError
from archive.models import Document
from ingest.process import process_document
from tests import scans
from tests.api_support import API, error_of, make_api_archive
from tests.fixtures.seaweed import seaweed_server

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    scans.page(seed=seed)[0].save(buf, format="PNG")
    return buf.getvalue()


def _wait_readable(svc, doc_id: int) -> None:  # type: ignore[no-untyped-def]
    with session_scope(svc.sessions) as s:
        key = s.get(Document, doc_id).original.storage_key
    deadline = time.monotonic() + 60
    while True:
        try:
            with svc.store.open(key) as fh:
                fh.read(1)
            return
        except StorageError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_storage_outage_during_ingest(tmp_path: Path) -> None:
    base = tmp_path / "weed"
    base.mkdir()
    with seaweed_server(base) as s3:
        ports = s3.ports
        arc = make_api_archive(tmp_path, immediate=False,
                               ARCHIVO_STORAGE_URL=s3.storage_url(f"caida-{uuid.uuid4().hex[:6]}"))
        first = arc.upload("archivista", _png(81), "antes.png")
        assert first.status_code == 202, first.get_json()
        doc_id = first.get_json()["id"]
    # --- the storage is down -------------------------------------------------------------
    started = time.monotonic()
    refused = arc.upload("archivista", _png(82), "durante.png")
    assert refused.status_code == 503, refused.get_data(as_text=True)
    code, message = error_of(refused)
    assert code == "almacenamiento_no_disponible" and "almacenamiento" in message
    assert refused.headers.get("Retry-After")
    assert time.monotonic() - started < 60  # the clerk is told, not left waiting
    health = arc.client().get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["partes"]["almacenamiento"]["estado"] == "error"

    with pytest.raises(StorageError):  # the worker's try fails as a transient fault ...
        process_document(arc.services, doc_id)
    with session_scope(arc.services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc.status is DocumentStatus.RECIBIDO  # ... and leaves it for a retry
        assert doc.claim_token is None and doc.attempts == 1
        count = s.query(Document).count()
    assert count == 1  # the refused upload left nothing half-written

    # --- the storage is back on the same address with the same data -----------------------
    with seaweed_server(base, ports):
        _wait_readable(arc.services, doc_id)  # the volume server registers a moment later
        assert process_document(arc.services, doc_id) == DocumentStatus.LISTO.value
        again = arc.upload("archivista", _png(82), "despues.png")
        assert again.status_code == 202, again.get_json()
        assert process_document(arc.services, again.get_json()["id"]) == "listo"
        original = arc.client().get(f"{API}/documents/{doc_id}/original",
                                    headers=arc.headers("consulta"))
        assert original.status_code == 200 and original.data == _png(81)
    arc.services.dispose()
