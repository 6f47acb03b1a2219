"""``/healthz`` says when a writer holds the database or the queue does not move (issue 15)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from archive.db import check_writers, session_scope
from archive.enums import DocumentStatus
from archive.localtime import utcnow
from archive.models import Document
from archive.queue import backlog
from archive.services import Services
from tests.registry_helpers import add_document
from web import create_app, health


@pytest.fixture
def quick_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe waits a fraction of a second for the lock instead of its usual seconds,
    and every call probes anew (no reuse of the last answer)."""
    monkeypatch.setattr(health, "WRITE_WAIT_S", 0.2)
    monkeypatch.setattr(health, "PROBE_TTL_S", 0.0)


def _sqlite_path(services: Services) -> str:
    path = services.engine.url.database
    assert path and services.engine.dialect.name == "sqlite"
    return path


@pytest.fixture
def held_write_lock(services: Services) -> Iterator[sqlite3.Connection]:
    """Another connection that took SQLite's write lock and keeps it, as a long edit did."""
    conn = sqlite3.connect(_sqlite_path(services), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_healthz_is_503_while_another_connection_holds_the_write_lock(
        services: Services, quick_probe: None, held_write_lock: sqlite3.Connection) -> None:
    client = create_app(services).test_client()
    res = client.get("/healthz")
    assert res.status_code == 503
    parts = res.json["partes"]
    assert parts["base_de_datos"]["estado"] == "ok"  # reads still answer: that hid the lock
    assert parts["escritura"]["estado"] == "error"
    assert "tomada la base de datos para escritura" in parts["escritura"]["detalle"]
    # released: writable again, and the probe left no lock of its own behind
    held_write_lock.execute("ROLLBACK")
    again = client.get("/healthz")
    assert again.status_code == 200 and again.json["partes"]["escritura"] == {"estado": "ok"}
    held_write_lock.execute("BEGIN IMMEDIATE")  # the fixture rolls it back


def test_the_lock_probe_leaves_no_lock_behind(services: Services) -> None:
    assert check_writers(services.engine, wait_s=0.2, long_s=60).blocked is False
    conn = sqlite3.connect(_sqlite_path(services), isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")  # at once: nothing of the probe's is held
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    with session_scope(services.sessions) as s:
        add = s.execute(text("SELECT count(*) FROM documents")).scalar()
    assert add == 0


def _age(svc: Services, number: int, status: DocumentStatus, *, received: dt.timedelta,
         claimed: dt.timedelta | None = None) -> None:
    doc_id = add_document(svc, number, [])
    with session_scope(svc.sessions) as s:
        doc = s.get(Document, doc_id)
        doc.status = status
        doc.received_at = utcnow() - received
        if claimed is not None:
            doc.claimed_at = utcnow() - claimed
            doc.claim_token = "trabajador-caido"


def test_a_stale_queue_is_a_warning_with_what_is_late(services: Services) -> None:
    lease = services.settings.lease_s
    _age(services, 1, DocumentStatus.RECIBIDO, received=dt.timedelta(hours=2))
    _age(services, 2, DocumentStatus.PROCESANDO, received=dt.timedelta(hours=1),
         claimed=dt.timedelta(seconds=3 * lease))
    _age(services, 3, DocumentStatus.PROCESANDO, received=dt.timedelta(minutes=1),
         claimed=dt.timedelta(seconds=lease // 2))  # a live lease: not late
    res = create_app(services).test_client().get("/healthz")
    assert res.status_code == 200  # degraded, not down
    queue = res.json["partes"]["cola"]
    assert queue["estado"] == "aviso"
    assert queue["avisos"][0].startswith("1 documento(s) en «procesando» con el plazo")
    assert "llegó hace 120 min" in queue["avisos"][1]
    assert "pendientes" in queue


def test_a_fresh_backlog_is_no_warning(services: Services) -> None:
    _age(services, 1, DocumentStatus.RECIBIDO, received=dt.timedelta(minutes=5))
    _age(services, 2, DocumentStatus.PROCESANDO, received=dt.timedelta(minutes=5),
         claimed=dt.timedelta(seconds=1))
    res = create_app(services).test_client().get("/healthz")
    assert res.status_code == 200
    assert res.json["partes"]["cola"]["estado"] == "ok"
    with session_scope(services.sessions) as s:
        late = backlog(s, lease_s=services.settings.lease_s)
    assert late.abandoned == 0 and late.oldest_wait is not None
    assert late.oldest_wait < health.STALE_WAIT


def test_the_public_view_shows_the_state_not_the_details(services: Services) -> None:
    _age(services, 1, DocumentStatus.RECIBIDO, received=dt.timedelta(hours=2))
    res = create_app(services).test_client().get("/healthz",
                                                 environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert res.json["partes"]["cola"] == {"estado": "aviso"}


@pytest.mark.postgres
def test_a_long_postgres_transaction_is_reported(pg_database: str) -> None:
    engine = create_engine(pg_database)
    other = create_engine(pg_database)
    try:
        assert check_writers(engine, wait_s=0.2, long_s=3600).long_transactions == 0
        with other.connect() as conn:
            conn.execute(text("SELECT 1"))  # opens a transaction, left open
            found = check_writers(engine, wait_s=0.2, long_s=0)
            assert found.long_transactions >= 1 and found.oldest_s is not None
            assert not found.blocked
    finally:
        engine.dispose()
        other.dispose()


def test_public_healthz_calls_share_one_probe(services: Services, monkeypatch: pytest.MonkeyPatch,
                                              held_write_lock: sqlite3.Connection) -> None:
    """/healthz is public and a probe may wait: calls arriving within the reuse time get
    the last answer instead of each holding a server thread for the wait."""
    monkeypatch.setattr(health, "WRITE_WAIT_S", 0.2)
    calls: list[float] = []
    real = health.check_writers

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["wait_s"])
        return real(*args, **kwargs)

    monkeypatch.setattr(health, "check_writers", counted)
    health._last_probe.clear()
    client = create_app(services).test_client()
    answers = [client.get("/healthz").status_code for _ in range(5)]
    assert answers == [503] * 5 and len(calls) == 1


@pytest.mark.postgres
def test_sessions_waiting_on_a_lock_are_reported(pg_database: str) -> None:
    import threading

    holder, waiter, probe = (create_engine(pg_database) for _ in range(3))
    try:
        with holder.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS espera (x int)"))
        with holder.connect() as conn:
            conn.execute(text("LOCK TABLE espera IN ACCESS EXCLUSIVE MODE"))  # kept open

            def blocked_read() -> None:
                with waiter.connect() as other:
                    other.execute(text("SET lock_timeout = '5s'"))
                    try:
                        other.execute(text("SELECT count(*) FROM espera"))
                    except Exception:  # noqa: BLE001 - the timeout ends the wait
                        pass

            thread = threading.Thread(target=blocked_read)
            thread.start()
            found = None
            for _ in range(50):  # until the reader is seen waiting
                found = check_writers(probe, wait_s=0.2, long_s=3600)
                if found.waiting_on_locks:
                    break
                threading.Event().wait(0.1)
            assert found is not None and found.waiting_on_locks >= 1
            conn.rollback()
            thread.join(10)
    finally:
        for engine in (holder, waiter, probe):
            engine.dispose()
