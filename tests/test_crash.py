"""kill -9 of a real worker process mid-document, then restart: finished exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.db import session_scope
from archive.models import AuditEvent, Blob, Document, Page
from archivo_cli.bootstrap import initialize
from ingest.accept import accept_stream
from tests import scans
from tests.conftest import home_env, make_services


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("archivo")
    return subprocess.Popen([str(exe), "worker", "--hilos", "1"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _status(svc, doc_id: int) -> str:  # type: ignore[no-untyped-def]
    with session_scope(svc.sessions) as s:
        return s.get(Document, doc_id).status.value


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["claimed", "mid_pages"])
def test_kill_9_mid_document_then_restart(tmp_path: Path, kill_at: str) -> None:
    env = home_env(tmp_path / "var", ARCHIVO_PLAZO_TRABAJO="3", ARCHIVO_OCR_PROCESOS="1")
    svc = make_services(tmp_path / "var", ARCHIVO_PLAZO_TRABAJO="3", ARCHIVO_OCR_PROCESOS="1")
    initialize(svc)
    pages = [scans.page(seed=40 + i, lines=[f"Hoja {i + 1}", f"NIS {2345670 + i}"])[0]
             for i in range(5)]
    path = scans.write(pages, tmp_path / "lote.tif", "TIFF", compression="tiff_deflate",
                       dpi=(150, 150))
    with path.open("rb") as fh:
        doc_id = accept_stream(svc, fh, path.name, actor="t").document_id
    log = tmp_path / "worker.log"
    worker = _start_worker(env, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _status(svc, doc_id) == "procesando":
            if kill_at == "claimed":
                break
            if len(list(svc.store.iterate("pages/"))) >= 3:  # some pages done, not all
                break
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert _status(svc, doc_id) == "procesando", log.read_text()

    worker = _start_worker(env, log)
    try:
        deadline = time.monotonic() + 120
        while _status(svc, doc_id) == "procesando" and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
    assert _status(svc, doc_id) == "listo", log.read_text()
    with session_scope(svc.sessions) as s:
        doc = s.get(Document, doc_id)
        assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5]
        assert s.scalar(select(func.count(Page.id))) == 5
        assert doc.nis_list == [str(2345670 + i) for i in range(5)]
        assert doc.attempts == 2
        assert s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "documento.procesar")) == 1
        blob_keys = set(s.scalars(select(Blob.storage_key)))
        original_key = doc.original.storage_key
    assert svc.store.get_bytes(original_key) == path.read_bytes()
    stored = {o.key for o in svc.store.iterate("")}
    assert blob_keys <= stored  # no row without its object
    page_objects = {o.key for o in svc.store.iterate("pages/")}
    assert len(page_objects) == 15  # 5 pages x (web, thumb, words): overwritten, never doubled
