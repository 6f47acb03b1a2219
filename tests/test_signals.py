"""The typed "documents changed" signal, the one wake-up helper, and archive's own imports."""

from __future__ import annotations

import ast
import datetime as dt
import logging
from pathlib import Path

import pytest

from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType
from archive.models import Blob, Document
from archive.queue import wake
from archive.services import Services
from archive.signals import DocumentsChanged, Signals, Sweep, mark_changed
from search.tasks import register_index_task

ARCHIVE = Path(__file__).resolve().parent.parent / "archive"
SIBLINGS = {"ingest", "search", "dispatch", "web", "archivo_cli", "bench"}


def _document(services: Services, *, index_due: bool = False) -> int:
    with session_scope(services.sessions) as s:
        blob = Blob(sha256="a" * 64, size=1, media_type="image/png", storage_key="originals/a")
        s.add(blob)
        s.flush()
        doc = Document(archive_number="ARC-2024-000001", doc_type=DocumentType.CONTRATO,
                       status=DocumentStatus.LISTO, title="Contrato", original_blob_id=blob.id,
                       page_count=0, received_at=dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc),
                       index_due=index_due)
        s.add(doc)
        s.flush()
        return doc.id


def test_a_subscriber_gets_the_typed_event_of_its_class_only_once() -> None:
    signals = Signals()
    heard: list[object] = []
    signals.connect(DocumentsChanged, heard.append)
    signals.connect(DocumentsChanged, heard.append)  # the same callable twice: once
    signals.send(Sweep())  # another class: not this subscriber's
    signals.send(DocumentsChanged((3, 5)))
    assert heard == [DocumentsChanged((3, 5))]
    assert isinstance(heard[0], DocumentsChanged) and heard[0].document_ids == (3, 5)


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    signals = Signals()
    heard: list[Sweep] = []

    def broken(_event: Sweep) -> None:
        raise RuntimeError("cola caída")

    signals.connect(Sweep, broken)
    signals.connect(Sweep, heard.append)
    with caplog.at_level(logging.WARNING, logger="archive.signals"):
        signals.send(Sweep())  # does not raise to the sender
    assert heard == [Sweep()]
    assert any("broken" in r.getMessage() and r.exc_info for r in caplog.records)


def test_search_subscribes_to_documents_changed_on_the_index_queue(services: Services) -> None:
    services.index_huey.flush()
    assert services.signals.receivers(DocumentsChanged) == []  # the core knows no subscriber
    register_index_task(services)
    assert len(services.signals.receivers(DocumentsChanged)) == 1
    assert len(services.signals.receivers(Sweep)) == 1
    services.signals.send(DocumentsChanged((1,)))
    assert services.index_huey.pending_count() == 1 and services.huey.pending_count() == 0
    message = services.index_huey.dequeue()
    assert message is not None and message.name == "archivo.indexar"


def test_mark_changed_is_part_of_the_callers_transaction(services: Services) -> None:
    doc_id = _document(services)
    with session_scope(services.sessions) as s:
        before = s.get(Document, doc_id).updated_at  # type: ignore[union-attr]
    with pytest.raises(RuntimeError):
        with session_scope(services.sessions) as s:
            mark_changed(s, [doc_id])
            raise RuntimeError("la edición falló")
    with session_scope(services.sessions) as s:
        assert not s.get(Document, doc_id).index_due  # type: ignore[union-attr]
        mark_changed(s, [doc_id])
    with session_scope(services.sessions) as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.index_due and doc.updated_at >= before


def test_wake_sends_or_says_the_sweeper_will_catch_up(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[int] = []
    assert wake(lambda: sent.append(1), "encolar el documento 1") is True and sent == [1]

    def down() -> None:
        raise ConnectionError("sin cola")

    with caplog.at_level(logging.DEBUG, logger="archive.queue"):
        assert wake(down, "encolar el documento 2") is False
        assert wake(down, "avisar al indexador", quiet=True) is False
    loud, quiet = caplog.records
    assert loud.levelno == logging.WARNING and quiet.levelno == logging.DEBUG
    assert loud.getMessage() == "no se pudo encolar el documento 2; el barrido lo retomará"


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_archive_imports_no_sibling_package() -> None:
    modules = sorted(ARCHIVE.rglob("*.py"))
    assert len(modules) > 20  # the walk found the package
    offenders = {str(p.relative_to(ARCHIVE)): sorted(_imported_packages(p) & SIBLINGS)
                 for p in modules if _imported_packages(p) & SIBLINGS}
    assert offenders == {}
