"""The index queue: index runs are asked for on their own queue, consumed only by the
index writer, so with ARCHIVO_INDEXADOR=dedicado the OCR workers never touch the index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.config import load_settings
from archive.enums import DocumentType
from archive.errors import ConfigError
from archive.queue import queue_name
from archive.services import Services
from archive.signals import DocumentsChanged, Sweep
from archivo_cli.bootstrap import initialize
from archivo_cli.main import cli
from archivo_cli.runtime import start_background_worker
from ingest.accept import accept_stream
from ingest.status import is_final, summaries
from search.indexer import due_count
from search.lock import LOCK_NAME, index_lock
from search.query import search
from search.tasks import register_index_task, request_if_due, request_indexing
from tests import scans
from tests.conftest import home_env, make_services
from tests.search_support import add_document
from web import create_app

REDIS_URL = "redis://127.0.0.1:6379/6"
QUEUES = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


def _settings(queue: str, **extra: str) -> dict[str, str]:
    return {**({"ARCHIVO_QUEUE_URL": REDIS_URL} if queue == "redis" else {}), **extra}


@pytest.fixture(params=QUEUES)
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """An initialized archive on a real SQLite or Redis queue, both queues empty."""
    svc = make_services(tmp_path / "var", **_settings(request.param))
    initialize(svc)
    svc.huey.flush()
    svc.index_huey.flush()
    yield svc
    svc.huey.flush()
    svc.index_huey.flush()
    svc.dispose()


def _wait(condition, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout  # a wait bound, not a speed requirement
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no ocurrió a tiempo: {what}")
        time.sleep(0.2)


def test_the_index_queue_is_a_second_queue_of_the_same_backend(archive: Services) -> None:
    assert archive.index_huey.name == queue_name(archive.settings) + "-indice"
    assert type(archive.index_huey) is type(archive.huey)
    assert archive.index_huey.name != archive.huey.name


def test_index_requests_go_to_the_index_queue_not_the_document_queue(archive: Services) -> None:
    add_document(archive, ["Factura de energía"])
    request_indexing(archive)
    archive.signals.send(DocumentsChanged((1,)))  # the subscriber registered with the task
    assert archive.huey.pending_count() == 0
    assert archive.index_huey.pending_count() == 2
    message = archive.index_huey.dequeue()
    assert message is not None and message.name == "archivo.indexar"


def test_the_sweep_asks_for_indexing_on_the_index_queue_once(archive: Services) -> None:
    register_index_task(archive)
    assert request_if_due(archive) is False  # nothing due: nothing asked
    add_document(archive, ["Nota de reclamo"])
    archive.signals.send(Sweep())  # what every worker's sweeper does
    assert archive.index_huey.pending_count() == 1 and archive.huey.pending_count() == 0
    assert request_if_due(archive) is False  # a wake-up already waits: no pile-up
    assert archive.index_huey.pending_count() == 1


def test_the_index_lock_lives_on_the_index_queue(archive: Services) -> None:
    lock = index_lock(archive)
    lock.acquire()
    try:
        assert archive.index_huey.is_locked(LOCK_NAME)
        assert not archive.huey.is_locked(LOCK_NAME)
    finally:
        lock.release()


def _accept_scan(svc: Services, tmp_path: Path, seed: int) -> int:
    img, _ = scans.page(seed=seed)
    path = scans.write(img, tmp_path / f"i{seed}.png", "PNG")
    with path.open("rb") as fh:
        return accept_stream(svc, fh, path.name, actor="t").document_id


@pytest.mark.parametrize("queue", QUEUES)
def test_a_dedicated_indexer_alone_writes_the_index(tmp_path: Path, queue: str) -> None:
    """An OCR worker whose index folder does not exist leaves the index messages alone;
    the index writer, started later with the real folder, consumes them."""
    home = tmp_path / "var"
    dedicated = _settings(queue, ARCHIVO_INDEXADOR="dedicado")
    writer = make_services(home, **dedicated)
    initialize(writer)  # creates the real index folder
    no_index = tmp_path / "maquina-ocr" / "indice"
    ocr = make_services(home, ARCHIVO_INDEX_DIR=str(no_index), **dedicated)
    ocr.huey.flush()
    ocr.index_huey.flush()
    edited = add_document(writer, ["Reclamo por heladera dañada"],
                          doc_type=DocumentType.RECLAMO_ELECTRODOMESTICO)
    request_indexing(writer)  # as an edit in the web does

    consumers, stop = start_background_worker(ocr, workers=1)  # ARCHIVO_INDEXADOR says: OCR only
    try:
        scanned = _accept_scan(ocr, tmp_path, 41)
        _wait(lambda: is_final(summaries(ocr, [scanned])[scanned].status), "OCR del documento")
    finally:
        stop.set()
        consumers.stop(graceful=True)
    assert summaries(ocr, [scanned])[scanned].status == "listo"  # the OCR queue was consumed
    assert writer.index_huey.pending_count() >= 1  # the index queue was not
    assert due_count(writer) == 2  # the edited and the scanned document wait
    assert search(writer, "heladera").total == 0
    assert not no_index.parent.exists()  # the OCR machine never needed an index folder

    consumers, stop = start_background_worker(writer, ocr=False, index=True)  # «indexador»
    try:
        _wait(lambda: due_count(writer) == 0 and writer.index_huey.pending_count() == 0,
              "indexación")
    finally:
        stop.set()
        consumers.stop(graceful=True)
        writer.huey.flush()
        writer.index_huey.flush()
    assert [h.document_id for h in search(writer, "heladera").hits] == [edited]
    assert [h.document_id for h in search(writer, "contrato").hits] == [scanned]
    writer.dispose()
    ocr.dispose()


def test_the_dedicated_indexer_clears_a_lock_left_by_a_killed_indexer(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "var", ARCHIVO_INDEXADOR="dedicado")
    initialize(svc)
    register_index_task(svc)
    index_lock(svc).acquire()  # held by an indexer that was killed mid-run
    add_document(svc, ["Pedido de reconexión"])
    request_indexing(svc)
    consumers, stop = start_background_worker(svc, ocr=False, index=True)
    try:
        _wait(lambda: due_count(svc) == 0, "indexación tras el bloqueo abandonado")
    finally:
        stop.set()
        consumers.stop(graceful=True)
        svc.index_huey.flush()
    assert search(svc, "reconexion").total == 1
    assert not svc.index_huey.is_locked(LOCK_NAME)
    svc.dispose()


def test_zero_configuration_writes_the_index_in_the_worker(tmp_path: Path) -> None:
    """The embedded default: one process, no setting, documents become searchable."""
    assert load_settings(home_env(tmp_path / "var")).indexer == "local"
    svc = make_services(tmp_path / "var")
    initialize(svc)
    svc.huey.flush()
    svc.index_huey.flush()
    add_document(svc, ["Solicitud de medidor"])
    request_indexing(svc)
    consumers, stop = start_background_worker(svc, workers=1)  # what «archivo serve» starts
    try:
        _wait(lambda: due_count(svc) == 0, "indexación en el trabajador embebido")
    finally:
        stop.set()
        consumers.stop(graceful=True)
        svc.index_huey.flush()
    assert search(svc, "medidor").total == 1
    svc.dispose()


def test_an_unknown_indexer_mode_is_refused_in_spanish(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ARCHIVO_INDEXADOR.*local o dedicado"):
        load_settings(home_env(tmp_path / "var", ARCHIVO_INDEXADOR="remoto"))


def test_healthz_reports_both_queues(archive: Services) -> None:
    add_document(archive, ["Reclamo"])
    request_indexing(archive)
    res = create_app(archive).test_client().get("/healthz")  # from this machine: details shown
    assert res.status_code == 200
    assert res.json["partes"]["cola"] == {"estado": "ok",
                                          "pendientes": {"documentos": 0, "indice": 1}}


def test_indexador_command_is_registered_in_spanish() -> None:
    res = CliRunner().invoke(cli, ["indexador", "--help"])
    assert res.exit_code == 0, res.output
    assert "índice de búsqueda" in res.output and "ARCHIVO_INDEXADOR" in res.output
