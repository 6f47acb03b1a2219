"""Keeping the index in step with the database: indexer, queue task, rebuild, check, CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document
from archive.services import Services
from archive.signals import DocumentsChanged
from archivo_cli import search_cmd
from search import index as search_index
from search import indexer
from search.check import check_consistency
from search.index import IndexUnavailable
from search.indexer import index_pending
from search.lock import IndexBusy, exclusive_writer
from search.query import search
from search.schema import SCHEMA_VERSION
from search.tasks import register_index_task, request_indexing
from tests.conftest import home_env
from tests.search_support import add_document, numbers, set_text

CLI = click.Group(commands=[search_cmd.search, search_cmd.reindex, search_cmd.check])


def run(svc: Services, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(CLI, list(args), env=home_env(svc.settings.home),
                              catch_exceptions=False)


def due(svc: Services, doc_id: int) -> bool:
    with session_scope(svc.sessions) as s:
        return bool(s.scalar(select(Document.index_due).where(Document.id == doc_id)))


def test_index_pending_indexes_due_documents_in_batches(services: Services) -> None:
    ids = [add_document(services, [f"Nota número {i} sobre transformadores"]) for i in range(5)]
    waiting = add_document(services, ["Transformadores en proceso"],
                           status=DocumentStatus.PROCESANDO)
    batches: list[int] = []
    assert index_pending(services, batch=2, progress=batches.append) == 5
    assert batches == [2, 2, 1]
    assert search(services, "transformadores").total == 5
    assert not any(due(services, i) for i in ids) and due(services, waiting)
    with session_scope(services.sessions) as s:
        assert all(s.scalars(select(Document.indexed_at).where(Document.id.in_(ids))))
    assert index_pending(services) == 0  # nothing left


def test_reindex_replaces_entries_and_error_status_removes_them(services: Services) -> None:
    doc = add_document(services, ["Texto original del reclamo"])
    index_pending(services)
    set_text(services, doc, 1, "Texto corregido del reclamo", mark_due=True)
    assert index_pending(services) == 1
    assert search(services, "corregido").total == 1 and search(services, "original").total == 0
    with session_scope(services.sessions) as s:
        row = s.get(Document, doc)
        row.status = DocumentStatus.ERROR  # type: ignore[union-attr]
        row.index_due = True  # type: ignore[union-attr]
    index_pending(services)
    assert search(services, "corregido").total == 0


def test_document_changed_during_its_batch_stays_due(services: Services,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    doc = add_document(services, ["Primera versión del texto"])
    real = indexer.write_batch

    def write_then_edit(ix, ids, docs, **kw):  # type: ignore[no-untyped-def]
        added = real(ix, ids, docs, **kw)
        set_text(services, doc, 1, "Segunda versión del texto", mark_due=True)
        monkeypatch.setattr(indexer, "write_batch", real)
        return added

    monkeypatch.setattr(indexer, "write_batch", write_then_edit)
    index_pending(services, max_batches=1)
    assert due(services, doc)  # the compare-and-set saw the edit and left the flag
    assert search(services, "segunda").total == 0
    index_pending(services)
    assert not due(services, doc) and search(services, "segunda").total == 1


def test_rebuild_rewrites_a_document_edited_meanwhile_once(services: Services,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild skips deletes for documents it has not written yet, but not for the rest."""
    doc = add_document(services, ["Primera versión del texto", "Otra página"])
    other = add_document(services, ["Un documento más"])
    real = indexer.write_batch

    def write_then_edit(ix, ids, docs, **kw):  # type: ignore[no-untyped-def]
        added = real(ix, ids, docs, **kw)
        set_text(services, doc, 1, "Segunda versión del texto", mark_due=True)
        monkeypatch.setattr(indexer, "write_batch", real)
        return added

    monkeypatch.setattr(indexer, "write_batch", write_then_edit)
    # Serial: the parallel rebuild has its own test (tests/test_search_rebuild.py).
    assert indexer.rebuild(services, batch=1, workers=1) == 3  # doc, other, then doc again
    assert search(services, "segunda").total == 1 and search(services, "primera").total == 0
    searcher = search_index.cached_searcher(services.settings.index_dir)
    assert searcher.doc_count() == 3  # two pages of doc, one of other: nothing doubled
    assert not due(services, doc) and not due(services, other)


def test_deleted_documents_are_removed_through_the_task(services: Services) -> None:
    services.immediate_queue = True  # before first use of services.huey
    doc = add_document(services, ["Documento que será borrado"])
    request_indexing(services)
    assert search(services, "borrado").total == 1 and not due(services, doc)
    with session_scope(services.sessions) as s:
        s.execute(delete(Document).where(Document.id == doc))
    request_indexing(services, deleted=[doc])
    assert search(services, "borrado").total == 0


def test_index_task_runs_through_huey_with_the_lock(services: Services) -> None:
    services.immediate_queue = True
    tasks = register_index_task(services)
    assert register_index_task(services) is tasks  # registered once
    add_document(services, ["Medidor trifásico instalado"])
    result = tasks.index()
    assert result() == 1 and search(services, "trifasico").total == 1
    assert not services.index_huey.is_locked("archivo-indice")
    with exclusive_writer(services):  # another writer holds the lock: the run is refused
        add_document(services, ["Medidor monofásico"])
        tasks.index()
        assert search(services, "monofasico").total == 0
        with pytest.raises(IndexBusy):
            with exclusive_writer(services):
                pass
    request_indexing(services)
    assert search(services, "monofasico").total == 1


def _version_mismatch(svc: Services) -> None:
    (svc.settings.index_dir / search_index.VERSION_FILE).write_text(str(SCHEMA_VERSION - 1))


def _corrupt(svc: Services) -> None:
    for seg in svc.settings.index_dir.glob("*.seg"):
        seg.unlink()


def _delete_folder(svc: Services) -> None:
    shutil.rmtree(svc.settings.index_dir)


@pytest.mark.parametrize("damage", [_version_mismatch, _corrupt, _delete_folder])
@pytest.mark.parametrize("fix", [("reindex", "--lote", "2"), ("check", "--indice", "--reparar")])
def test_a_bad_index_is_rebuilt(services: Services, damage, fix) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        add_document(services, [f"Acuerdo de pago número {i}"],
                     document_date=dt.date(2020, 1, i + 1))
    index_pending(services)
    damage(services)
    with pytest.raises(IndexUnavailable, match="reindex"):
        search(services, "acuerdo")
    out = run(services, "check", "--indice")
    assert out.exit_code == 1 and "Problema:" in out.output
    out = run(services, *fix)
    assert out.exit_code == 0, out.output
    if fix[0] == "reindex":
        assert "Índice reconstruido: 3 documento(s)" in out.output
        from whoosh import index as windex

        # batches of 2 were committed unmerged, then merged once: a single segment is left
        assert len(windex.open_dir(str(services.settings.index_dir))._segments()) == 1
    else:
        assert "Reparando..." in out.output and "Resultado: sin problemas." in out.output
    assert search_index.stored_version(services.settings.index_dir) == SCHEMA_VERSION
    assert search(services, "acuerdo").total == 3
    assert run(services, "check", "--indice").exit_code == 0


@pytest.mark.parametrize("damage", [_corrupt, _delete_folder])
def test_indexer_heals_a_bad_index_by_itself(services: Services,
                                             damage) -> None:  # type: ignore[no-untyped-def]
    add_document(services, ["Croquis de ubicación del medidor"])
    index_pending(services)
    damage(services)
    assert index_pending(services) == 1  # replaced, every document marked due and indexed
    assert search(services, "croquis").total == 1


def test_check_finds_missing_stale_and_extra_and_repairs(services: Services) -> None:
    missing = add_document(services, ["Documento que falta en el índice"])
    stale = add_document(services, ["Texto viejo del documento"])
    extra = add_document(services, ["Documento que ya no existe"])
    fine = add_document(services, ["Documento correcto"])
    index_pending(services)
    ix = search_index.open_for_search(services.settings.index_dir)
    indexer.write_batch(ix, [missing], {})  # entries lost
    set_text(services, stale, 1, "Texto nuevo del documento", mark_due=False)  # edit not flagged
    with session_scope(services.sessions) as s:
        s.execute(delete(Document).where(Document.id == extra))
    pending = add_document(services, ["Recién terminado"])  # due: waiting, not a problem

    report = check_consistency(services)
    assert (report.missing, report.stale, report.extra) == ({missing}, {stale}, {extra})
    assert report.pending == {pending} and report.problems == 3 and fine not in report.pending
    out = run(services, "check", "--indice")
    assert out.exit_code == 1
    assert "Faltan en el índice: 1" in out.output and "Desactualizados: 1" in out.output
    assert "Sobran en el índice: 1" in out.output and "A la espera del indexador" in out.output

    out = run(services, "check", "--indice", "--reparar")
    assert out.exit_code == 0, out.output
    assert "Resultado: sin problemas." in out.output
    assert search(services, "falta").total == 1 and search(services, "nuevo").total == 1
    assert search(services, "existe").total == 0 and search(services, "terminado").total == 1


def test_indexing_and_exact_answers_on_each_database(db_url: str, tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    try:
        initialize(svc)
        doc = add_document(svc, ["Reclamo de heladera en Itauguá"], nis=["5556667"],
                           identifiers=[("cedula", "1234567")])
        assert index_pending(svc) == 1 and not due(svc, doc)  # compare-and-set matched
        assert numbers(search(svc, "itaugua heladeras")) == numbers(search(svc, "5.556.667"))
        assert search(svc, "1234567").mode == "exacto"
        assert check_consistency(svc).ok
    finally:
        svc.dispose()


def test_search_command_text_and_json(services: Services) -> None:
    add_document(services, ["Reclamo de <b>heladera</b> en Luque"], nis=["1112223"],
                 document_date=dt.date(2022, 8, 9))
    index_pending(services)
    out = run(services, "search", "heladera", "luque", "-robo")
    assert out.exit_code == 0, out.output
    assert "1 documento — página 1 de 1" in out.output and "NIS 1112223" in out.output
    assert "<b>heladera</b>" in out.output  # terminal: the text as written, unescaped
    assert "Por año: 2022 (1)" in out.output
    data = json.loads(run(services, "search", "--json", "1.112.223").output)
    assert data["modo"] == "exacto" and data["resultados"][0]["nis"] == ["1112223"]
    bad = run(services, "search", "fecha:ayer")
    assert bad.exit_code == 1 and "no es una fecha válida" in bad.output
    for query, message in (('"heladera luque', "comillas no están cerradas"),
                           ("color:blanco", "Campo «color» desconocido"),
                           ("fecha:1000..3000", "fuera del rango admitido")):
        bad = run(services, "search", query)
        assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_ingested_scan_becomes_searchable(services: Services, tmp_path: Path) -> None:
    from ingest.accept import accept_stream
    from ingest.process import process_document
    from tests import scans

    img, nis = scans.page(seed=3, doc_type="contrato")
    path = scans.write(img, tmp_path / "contrato.png", "PNG")
    with path.open("rb") as fh:
        acc = accept_stream(services, fh, path.name, actor="prueba", enqueue=False)
    process_document(services, acc.document_id)
    assert due(services, acc.document_id)  # finish asked for indexing
    assert index_pending(services) == 1
    res = search(services, "suministro")
    assert numbers(res) == [acc.archive_number]
    hit = res.hits[0]
    assert hit.page == 1 and "<mark>" in hit.snippet.lower()
    assert any("suministro" in b.text.lower() for b in hit.boxes)
    exact = search(services, nis[0])
    assert exact.mode == "exacto" and numbers(exact) == [acc.archive_number]
    assert exact.hits[0].boxes  # the NIS is marked on the page image


def test_index_task_continues_a_backlog_in_fresh_runs(services: Services,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import search.tasks as search_tasks

    services.immediate_queue = True
    monkeypatch.setattr(search_tasks, "BATCH", 1)
    monkeypatch.setattr(search_tasks, "MAX_BATCHES_PER_RUN", 2)
    for i in range(5):
        add_document(services, [f"Constancia de deuda {i}"])
    request_indexing(services)  # 2 + 2 + 1 documents, one run after another
    assert search(services, "constancia").total == 5
    assert indexer.due_count(services) == 0


def test_concurrent_finishes_go_through_one_writer_and_nothing_is_lost(services: Services) -> None:
    """Documents finishing in several threads at once, a real background worker.

    Two dozen index requests pile up on the index queue; its consumer runs them one
    after another under the index lock, and every document ends up indexed once.
    """
    import threading
    import time

    from huey import signals
    from whoosh import query as wq

    from archivo_cli.runtime import start_background_worker

    services.index_huey.flush()
    errors: list[BaseException] = []

    @services.index_huey.signal(signals.SIGNAL_ERROR)
    def collect(signal, task, exc=None):  # type: ignore[no-untyped-def]
        errors.append(exc)

    consumer, stop = start_background_worker(services, workers=3)
    pages: dict[int, int] = {}
    lock = threading.Lock()

    def finish_documents(worker: int) -> None:
        for i in range(6):
            texts = [f"Reclamo {worker}-{i} de heladera", "Anexo del reclamo"][: 1 + i % 2]
            doc_id = add_document(services, texts)
            with lock:
                pages[doc_id] = len(texts)
            services.signals.send(DocumentsChanged((doc_id,)))  # what the end of OCR does

    try:
        threads = [threading.Thread(target=finish_documents, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 120  # a wait bound, not a speed requirement
        while (indexer.due_count(services) or services.index_huey.pending_count()
               or services.index_huey.scheduled_count()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert indexer.due_count(services) == 0
    finally:
        stop.set()
        consumer.stop(graceful=True)
        services.index_huey.flush()
    assert errors == []  # no LockError (nor anything else) escaped a task
    assert search(services, "heladera").total == len(pages) == 24
    searcher = search_index.cached_searcher(services.settings.index_dir)
    for doc_id, n in pages.items():  # every document indexed exactly once: no duplicate pages
        assert len(list(searcher.docs_for_query(wq.Term("document_id", doc_id)))) == n
    assert searcher.doc_count() == sum(pages.values())
    assert not services.index_huey.is_locked("archivo-indice")
