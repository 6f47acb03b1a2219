"""The scaled deployment on this machine: PostgreSQL, SeaweedFS S3, a Redis queue and two
separate worker processes sharing them. Every document is processed exactly once and the
index (one writer, serialized by the queue's lock) finds them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from archive.db import session_scope
from archive.models import AuditEvent, Document
from archivo_cli.bootstrap import initialize
from ingest.accept import accept_stream
from tests import scans
from tests.conftest import home_env, make_services
from tests.fixtures.seaweed import SeaweedS3

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/4"
DOCUMENTS = 6


@pytest.fixture
def pg_schema(pg_database: str) -> Iterator[str]:
    schema = f"escala_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with eng.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("archivo")
    return subprocess.Popen([str(exe), "worker", "--hilos", "1"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_two_workers_on_postgresql_s3_and_redis(tmp_path: Path, pg_schema: str,
                                                seaweed_s3: SeaweedS3) -> None:
    settings = {"ARCHIVO_DATABASE_URL": pg_schema, "ARCHIVO_QUEUE_URL": REDIS_URL,
                "ARCHIVO_STORAGE_URL": seaweed_s3.storage_url(f"escala-{uuid.uuid4().hex[:8]}"),
                "ARCHIVO_OCR_PROCESOS": "1"}
    home = tmp_path / "var"
    svc = make_services(home, **settings)
    initialize(svc)
    svc.huey.flush()
    ids = []
    for i in range(DOCUMENTS):
        path = scans.write(scans.page(seed=70 + i)[0], tmp_path / f"doc{i}.png", "PNG")
        with path.open("rb") as fh:
            ids.append(accept_stream(svc, fh, path.name, actor="prueba").document_id)

    env = home_env(home, **settings)
    logs = [tmp_path / "trabajador-1.log", tmp_path / "trabajador-2.log"]
    workers = [_start_worker(env, log) for log in logs]
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with session_scope(svc.sessions) as s:
                pending = s.scalar(select(func.count(Document.id)).where(
                    Document.id.in_(ids), Document.status.in_(["recibido", "procesando"])))
                indexed = s.scalar(select(func.count(Document.id)).where(
                    Document.id.in_(ids), Document.index_due.is_(False),
                    Document.indexed_at.is_not(None)))
            if pending == 0 and indexed == DOCUMENTS:
                break
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(0.5)
    finally:
        for w in workers:
            _stop(w)
        svc.huey.flush()
    report = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
    with session_scope(svc.sessions) as s:
        statuses = dict(s.execute(select(Document.id, Document.status)
                                  .where(Document.id.in_(ids))).all())
        assert {st.value for st in statuses.values()} <= {"listo", "revisar"}, report
        processed = s.execute(select(AuditEvent.object_id, func.count())
                              .where(AuditEvent.action == "documento.procesar")
                              .group_by(AuditEvent.object_id)).all()
        assert len(processed) == DOCUMENTS and all(n == 1 for _, n in processed), processed
        attempts = s.scalars(select(Document.attempts).where(Document.id.in_(ids))).all()
        assert set(attempts) == {1}, attempts
    from search.query import search

    assert search(svc, "contrato").total == DOCUMENTS
    assert sum(1 for _ in svc.store.iterate("originals/")) == DOCUMENTS
    svc.dispose()
