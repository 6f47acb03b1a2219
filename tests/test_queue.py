"""The queue: both huey backends, the sweeper and the processing leases."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document
from archive.services import Services
from archivo_cli.bootstrap import initialize
from archivo_cli.runtime import start_background_worker
from ingest import claims
from ingest.accept import accept_stream
from ingest.status import is_final, summaries
from ingest.tasks import stale_documents, sweep
from tests import scans
from tests.conftest import make_services


def _accept(svc: Services, tmp_path: Path, seed: int, enqueue: bool = True) -> int:
    img, _ = scans.page(seed=seed)
    path = scans.write(img, tmp_path / f"q{seed}.png", "PNG")
    with path.open("rb") as fh:
        return accept_stream(svc, fh, path.name, actor="t", enqueue=enqueue).document_id


def _wait_final(svc: Services, ids: list[int], timeout: float = 120) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {i: s.status for i, s in summaries(svc, ids).items()}
        if all(is_final(v) for v in got.values()):
            return got
        time.sleep(0.3)
    raise AssertionError(f"no terminaron a tiempo: {got}")


@pytest.mark.parametrize("queue", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_worker_processes_queued_documents(tmp_path: Path, queue: str) -> None:
    extra = {"ARCHIVO_QUEUE_URL": "redis://127.0.0.1:6379/0"} if queue == "redis" else {}
    svc = make_services(tmp_path / "var", **extra)
    initialize(svc)
    svc.huey.flush()
    consumer, stop = start_background_worker(svc, workers=2)
    try:
        ids = [_accept(svc, tmp_path, seed) for seed in (31, 32)]
        assert set(_wait_final(svc, ids).values()) == {"listo"}
        from search.query import search

        deadline = time.monotonic() + 30  # searchable within seconds of finishing
        while search(svc, "contrato").total < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert search(svc, "contrato").total == 2
    finally:
        stop.set()
        consumer.stop(graceful=True)
        svc.huey.flush()
        svc.dispose()


def test_sweeper_requeues_documents_whose_message_was_lost(services: Services, tmp_path: Path) -> None:
    doc_id = _accept(services, tmp_path, 33, enqueue=False)  # as if the process died after commit
    assert stale_documents(services) == []  # still inside the grace period
    assert stale_documents(services, received_grace_s=0) == [doc_id]
    services.huey.flush()
    assert sweep(services, received_grace_s=0) == 1
    assert services.huey.pending_count() == 1


def test_a_stale_lease_is_taken_over_and_a_fresh_one_is_not(services: Services, tmp_path: Path) -> None:
    doc_id = _accept(services, tmp_path, 34, enqueue=False)
    first = claims.claim(services.sessions, doc_id, lease_s=60)
    assert first is not None
    assert claims.claim(services.sessions, doc_id, lease_s=60) is None  # owner is alive
    assert stale_documents(services) == []
    with session_scope(services.sessions) as s:  # the owner stops sending heartbeats
        s.execute(update(Document).where(Document.id == doc_id).values(
            claimed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=120)))
    assert stale_documents(services) == [doc_id]
    second = claims.claim(services.sessions, doc_id, lease_s=60)
    assert second is not None and second != first
    assert not claims.renew(services.sessions, doc_id, first)  # the old owner learns it lost
    with session_scope(services.sessions) as s:
        assert claims.still_owned(s, doc_id, first) is None
        assert claims.still_owned(s, doc_id, second) is not None


def test_finished_documents_are_not_claimed_again(services: Services, tmp_path: Path) -> None:
    doc_id = _accept(services, tmp_path, 35, enqueue=False)
    from ingest.process import process_document

    assert process_document(services, doc_id) == "listo"
    assert process_document(services, doc_id) == "omitido"
    with session_scope(services.sessions) as s:
        assert s.get(Document, doc_id).status is DocumentStatus.LISTO


def test_sweeper_does_not_flood_a_busy_queue(services: Services, tmp_path: Path) -> None:
    doc_id = _accept(services, tmp_path, 36, enqueue=True)  # its message is in the queue
    assert services.huey.pending_count() == 1
    assert sweep(services, received_grace_s=0) == 0  # backlog: assume the message is there
    services.huey.flush()
    assert sweep(services, received_grace_s=0) == 1  # queue empty: the message was lost
    assert stale_documents(services, received_grace_s=0) == [doc_id]


def test_heartbeat_stops_renewing_when_work_stalls() -> None:
    renewals: list[float] = []
    with claims.Heartbeat(lambda: renewals.append(time.monotonic()) or True, 0.5, stall_s=1.0):
        time.sleep(3.0)  # nothing touches it: a hung page
    assert len(renewals) <= 2
    renewals.clear()
    with claims.Heartbeat(lambda: renewals.append(time.monotonic()) or True, 0.5,
                          stall_s=1.0) as beat:
        for _ in range(15):  # pages keep finishing
            beat.touch()
            time.sleep(0.2)
    assert len(renewals) >= 4


def test_scratch_left_by_a_killed_worker_is_swept(services: Services) -> None:
    import os

    from ingest.process import scratch_dir, sweep_scratch

    old = scratch_dir(services) / "doc-abandonado"
    old.mkdir()
    (old / "original").write_bytes(b"x" * 10)
    os.utime(old, (0, 0))
    fresh = scratch_dir(services) / "doc-en-curso"
    fresh.mkdir()
    assert sweep_scratch(services) == 1
    assert not old.exists() and fresh.exists()
