"""The scaled deployment on this machine: PostgreSQL, SeaweedFS S3, a Redis queue, gunicorn
web processes taking the uploads over HTTP, two separate OCR worker processes sharing them
and one index writer (``archivo indexador``, ARCHIVO_INDEXADOR=dedicado). The OCR workers
are given an index folder that must never appear, as on machines without the index. Every
document is processed exactly once and the web's search finds them all."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from archive.accounts import create_token
from archive.db import session_scope
from archive.models import AuditEvent, Document
from archive.users import create_user
from archivo_cli.bootstrap import initialize
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


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("archivo")
    return subprocess.Popen([str(exe), *args], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(port: int, token: str, path: str) -> dict:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    res = conn.getresponse()
    payload = json.loads(res.read())
    assert res.status == 200, payload
    return payload  # type: ignore[no-any-return]


def _upload(port: int, token: str, image, name: str) -> int:  # type: ignore[no-untyped-def]
    """POST the scan to the gunicorn web process, as a scanner station would."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").encode() \
        + buf.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/documents", body=body, headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
            res = conn.getresponse()
            payload = json.loads(res.read())
            assert res.status == 202, payload
            return int(payload["id"])
        except ConnectionRefusedError:  # gunicorn still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_two_workers_on_postgresql_s3_and_redis(tmp_path: Path, pg_schema: str,
                                                seaweed_s3: SeaweedS3) -> None:
    settings = {"ARCHIVO_DATABASE_URL": pg_schema, "ARCHIVO_QUEUE_URL": REDIS_URL,
                "ARCHIVO_STORAGE_URL": seaweed_s3.storage_url(f"escala-{uuid.uuid4().hex[:8]}"),
                "ARCHIVO_OCR_PROCESOS": "1", "ARCHIVO_INDEXADOR": "dedicado"}
    home = tmp_path / "var"
    svc = make_services(home, **settings)
    initialize(svc)  # on the index machine: creates the index folder under home
    svc.huey.flush()
    svc.index_huey.flush()
    with session_scope(svc.sessions) as s:
        user, _ = create_user(s, "escaner", "archivista", password="clave-del-escaner-1")
        token = create_token(s, user, "escaner", actor="prueba")[1]

    env = home_env(home, **settings, ARCHIVO_TRABAJADOR_EMBEBIDO="false")
    port = _free_port()
    web = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-w", "2",
                            "-b", f"127.0.0.1:{port}", "web:create_app()"], env=env,
                           stdout=(tmp_path / "web.log").open("ab"), stderr=subprocess.STDOUT,
                           start_new_session=True)
    logs = [tmp_path / name for name in ("trabajador-1.log", "trabajador-2.log", "indexador.log")]
    ocr_index_dirs = [tmp_path / f"maquina-ocr-{n}" / "indice" for n in (1, 2)]
    workers = [_start(["worker", "--hilos", "1"], {**env, "ARCHIVO_INDEX_DIR": str(folder)}, log)
               for folder, log in zip(ocr_index_dirs, logs)]
    workers.append(_start(["indexador"], env, logs[2]))
    try:
        ids = [_upload(port, token, scans.page(seed=70 + i)[0], f"doc{i}.png")
               for i in range(DOCUMENTS)]
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
        found = _get_json(port, token, "/api/v1/search?q=contrato&por_pagina=50")
    finally:
        for w in [*workers, web]:
            _stop(w)
        svc.huey.flush()
        svc.index_huey.flush()
    report = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
    assert sorted(hit["documento_id"] for hit in found["resultados"]) == sorted(ids), report
    assert not any(folder.parent.exists() for folder in ocr_index_dirs), report
    assert "índice en" in logs[2].read_text() and "solo OCR" in logs[0].read_text()
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
    assert sum(1 for _ in svc.store.iterate("originals/")) == DOCUMENTS
    svc.dispose()
