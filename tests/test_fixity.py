"""`archivo check`: fixity of stored objects, orphans, the audit hash chain, the nightly sample."""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
from itertools import count
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from archive import audit, fixity, keys
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.localtime import local_datetime
from archive.models import AuditEvent, Blob, Document, Page
from archive.services import Services
from archive.signals import Sweep
from archive.storage import LocalStore
from archivo_cli.main import cli
from search.indexer import index_pending
from tests.conftest import home_env, make_services
from tests.fixtures.seaweed import SeaweedS3

_numbers = count(1)


def run(svc: Services, *args: str):  # type: ignore[no-untyped-def]
    env = home_env(svc.settings.home, ARCHIVO_STORAGE_URL=svc.settings.storage_url)
    return CliRunner().invoke(cli, ["check", *args], env=env, catch_exceptions=False)


def add_document(svc: Services, pages: int = 2, *, sums: bool = True) -> dict[str, str]:
    """A finished document with its original, searchable PDF and page derivatives stored.

    ``sums=False`` leaves the derivatives without recorded sums, as rows written
    before migration 0009 are.
    """
    n = next(_numbers)
    store = svc.store
    original = store.put_original(io.BytesIO(f"original {n} {uuid.uuid4()}".encode() * 50))
    sha = original.sha256
    pdf = store.put_bytes(keys.pdf_key(sha), f"%PDF-1.7 documento {n}".encode(), "application/pdf")
    with session_scope(svc.sessions) as s:
        ob = Blob(sha256=sha, size=original.size, media_type="application/pdf",
                  storage_key=original.key)
        pb = Blob(sha256=pdf.sha256, size=pdf.size, media_type="application/pdf",
                  storage_key=pdf.key)
        s.add_all([ob, pb])
        s.flush()
        doc = Document(archive_number=f"ARC-2026-{n:06d}", status=DocumentStatus.LISTO,
                       original_blob_id=ob.id, pdf_blob_id=pb.id, page_count=pages,
                       index_due=True)
        s.add(doc)
        s.flush()
        for number in range(1, pages + 1):
            row = Page(document_id=doc.id, number=number, text=f"Texto de la página {number}")
            for kind, column in (("web", "image"), ("thumb", "thumb"), ("words", "words")):
                key = keys.page_key(sha, number, kind)  # type: ignore[arg-type]
                stored = store.put_bytes(key, f"{kind} {n} {number}".encode())
                setattr(row, f"{column}_key", key)
                if sums:
                    setattr(row, f"{column}_sha256", stored.sha256)
                    setattr(row, f"{column}_size", stored.size)
            s.add(row)
        audit.record(s, "prueba", "documento.recibir", "documento", doc.archive_number)
    return {"number": f"ARC-2026-{n:06d}", "original": original.key, "pdf": pdf.key,
            "image": keys.page_key(sha, 1, "web"), "thumb": keys.page_key(sha, 2, "thumb"),
            "words": keys.page_key(sha, 1, "words")}


def _file(svc: Services, key: str) -> Path:
    store = svc.store
    assert isinstance(store, LocalStore)
    return store.root.joinpath(*key.split("/"))


def _age(svc: Services, key: str, days: int) -> None:
    when = (dt.datetime.now() - dt.timedelta(days=days)).timestamp()
    os.utime(_file(svc, key), (when, when))


@pytest.fixture
def archive(services: Services) -> Services:
    add_document(services)
    add_document(services)
    index_pending(services)
    return services


def test_a_clean_archive_passes_every_check(archive: Services) -> None:
    out = run(archive)
    assert out.exit_code == 0, out.output
    assert "Verificados con SHA-256: 4" in out.output
    assert "Derivados de página presentes: 12" in out.output
    assert "Derivados de página verificados con SHA-256: 12" in out.output
    assert "sin suma registrada" not in out.output
    assert "Cadena de sumas íntegra." in out.output
    assert "Índice de búsqueda" in out.output and "Resultado: sin problemas." in out.output
    with session_scope(archive.sessions) as s:
        assert all(b.verified_at is not None for b in s.scalars(select(Blob)))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "integridad.verificar"))
        assert event is not None and event.actor == "consola"
        assert event.details["verificados"] == 4 and event.details["problemas"] == 0
    # the progress callback sees each stage and every item
    class Recorder:
        def __init__(self) -> None:
            self.stages: dict[str, int | None] = {}
            self.done: dict[str, int] = {}
            self.current = ""

        def stage(self, label: str, total: int | None) -> None:
            self.stages[label], self.done[label], self.current = total, 0, label

        def advance(self, n: int = 1) -> None:
            self.done[self.current] += n

    rec = Recorder()
    fixity.check_objects(archive, progress=rec)
    assert rec.stages == {"Verificando objetos": 4, "Verificando derivados": 4,
                          "Buscando huérfanos": None}
    assert rec.done == {"Verificando objetos": 4, "Verificando derivados": 4,
                        "Buscando huérfanos": 16}
    # the event the check itself recorded keeps the chain intact
    assert run(archive, "--auditoria").exit_code == 0


def test_a_corrupted_original_is_reported(archive: Services) -> None:
    doc = add_document(archive)
    path = _file(archive, doc["original"])
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, other bytes: only the hash can tell
    path.write_bytes(bytes(data))
    out = run(archive, "--objetos")
    assert out.exit_code == 1
    assert "Dañados (no coinciden con su suma SHA-256): 1" in out.output
    assert f"original de {doc['number']}" in out.output and "Resultado: 1 problema(s)" in out.output
    with session_scope(archive.sessions) as s:
        blob = s.scalar(select(Blob).where(Blob.storage_key == doc["original"]))
        assert blob is not None and blob.verified_at is None  # never stamped as good
    lines = fixity.check_objects(archive).problem_lines()
    assert len(lines) == 1 and lines[0].startswith(f"Dañado: el original de {doc['number']}")


def test_missing_derivatives_and_rows_without_objects(archive: Services) -> None:
    doc = add_document(archive)
    archive.store.delete(doc["image"])
    archive.store.delete(doc["pdf"])
    out = run(archive, "--objetos")
    assert out.exit_code == 1
    assert "Faltan (registrados en la base, ausentes en el almacenamiento): 2" in out.output
    assert f"Falta la imagen de la página 1 de {doc['number']}" in out.output
    assert f"Falta el PDF buscable de {doc['number']}" in out.output


def test_orphans_young_are_kept_old_are_removed_with_limpiar(archive: Services) -> None:
    young = archive.store.put_bytes("pages/aa/bb/huerfano/0001-web.jpg", b"reciente").key
    old = archive.store.put_bytes("originals/cc/dd/viejo", b"abandonado").key
    _age(archive, old, 10)
    out = run(archive, "--objetos")
    assert out.exit_code == 1
    assert "Huérfanos con más de 7 día(s): 1" in out.output and old in out.output
    assert "Huérfanos recientes" in out.output and young in out.output
    assert "--limpiar" in out.output

    out = run(archive, "--objetos", "--limpiar")
    assert out.exit_code == 0, out.output
    assert "Huérfanos eliminados (más de 7 día(s)): 1" in out.output
    assert not archive.store.exists(old) and archive.store.exists(young)
    # a shorter grace period makes the young one old enough
    _age(archive, young, 2)
    out = run(archive, "--objetos", "--limpiar", "--gracia", "1")
    assert out.exit_code == 0 and not archive.store.exists(young)
    # referenced originals are never touched, however old
    for info in archive.store.iterate():
        _age(archive, info.key, 400)
    out = run(archive, "--objetos", "--limpiar", "--gracia", "0")
    assert out.exit_code == 0 and "Huérfanos eliminados" not in out.output
    with session_scope(archive.sessions) as s:
        for key in s.scalars(select(Blob.storage_key)):
            assert archive.store.exists(key)


def test_limpiar_needs_the_full_check(archive: Services) -> None:
    out = run(archive, "--muestra", "2", "--limpiar")
    assert out.exit_code == 2 and "--muestra" in out.output


def test_sample_rotates_through_the_least_recently_verified(archive: Services) -> None:
    add_document(archive)  # 6 blobs in all
    seen: list[set[str]] = []
    for _ in range(3):
        before = _verified(archive)
        out = run(archive, "--objetos", "--muestra", "2")
        assert out.exit_code == 0, out.output
        assert "por muestra" in out.output and "Verificados con SHA-256: 2" in out.output
        after = _verified(archive)
        seen.append({k for k, v in after.items() if v != before[k]})
    assert all(len(s) == 2 for s in seen)
    assert set().union(*seen) == set(_verified(archive))  # every blob once
    assert all(v is not None for v in _verified(archive).values())
    # the next sample starts again from the oldest stamps: the first round's
    before = _verified(archive)
    run(archive, "--objetos", "--muestra", "2")
    after = _verified(archive)
    assert {k for k, v in after.items() if v != before[k]} == seen[0]


def _verified(svc: Services) -> dict[str, dt.datetime | None]:
    with session_scope(svc.sessions) as s:
        return dict(s.execute(select(Blob.storage_key, Blob.verified_at)).all())


def test_sample_finds_a_missing_derivative_of_a_sampled_document(archive: Services) -> None:
    doc = add_document(archive)
    archive.store.delete(doc["thumb"])
    out = run(archive, "--objetos", "--muestra", "100")
    assert out.exit_code == 1
    assert f"Falta la miniatura de la página 2 de {doc['number']}" in out.output


def _events(svc: Services) -> list[int]:
    with session_scope(svc.sessions) as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_edited_audit_event_is_detected(archive: Services) -> None:
    assert run(archive, "--auditoria").exit_code == 0
    first = _events(archive)[1]  # [0] is the administrator created by init
    with session_scope(archive.sessions) as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == first).values(actor="otro"))
    out = run(archive, "--auditoria")
    assert out.exit_code == 1
    assert f"Primer evento con problemas: {first} (documento.recibir" in out.output
    assert f"El evento {first} fue modificado" in out.output


def test_a_deleted_audit_event_is_detected(archive: Services) -> None:
    add_document(archive)
    ids = _events(archive)
    with session_scope(archive.sessions) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    out = run(archive, "--auditoria")
    assert out.exit_code == 1
    assert f"Primer evento con problemas: {ids[2]}" in out.output
    assert f"El evento {ids[2]} no sigue al anterior" in out.output
    # the full check reports it too, and so does the object part's exit status
    assert run(archive).exit_code == 1


def test_nightly_sample_runs_once_per_night_and_is_audited(archive: Services,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    night = dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.timezone.utc)  # 03:30 in Asunción
    afternoon = night + dt.timedelta(hours=12)
    assert fixity.nightly_due(archive, night) and not fixity.nightly_due(archive, afternoon)
    report = fixity.run_nightly(archive, sample=3, now=night)
    assert report is not None and report.hashed == 3 and report.ok
    with session_scope(archive.sessions) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "integridad.verificar"))
        assert event is not None and event.actor == "sistema"
        assert event.details["programada"] is True and event.details["verificados"] == 3
        assert event.details["auditoria_problemas"] == 0
        last = event.at
    last = last.replace(tzinfo=dt.timezone.utc)
    monkeypatch.setattr(fixity, "MIN_INTERVAL", dt.timedelta(days=2))
    soon = last + dt.timedelta(minutes=30)
    while local_datetime(soon).hour not in fixity.NIGHT_HOURS:  # the next night, < 1 day later
        soon += dt.timedelta(minutes=30)
    assert fixity.run_nightly(archive, sample=3, now=soon) is None  # already done
    # the lock is released and a later night runs again
    assert fixity.run_nightly(archive, sample=3, now=soon + dt.timedelta(days=3)) is not None


def test_the_sweeper_hook_enqueues_the_nightly_task(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var", ARCHIVO_QUEUE_URL="memory://")
    svc.immediate_queue = True
    initialize(svc)
    add_document(svc)
    task = fixity.register_fixity_task(svc)
    assert fixity.register_fixity_task(svc) is task
    monkeypatch.setattr(fixity, "nightly_due", lambda services, now=None: True)
    svc.signals.send(Sweep())
    with session_scope(svc.sessions) as s:
        events = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "integridad.verificar")))
    assert len(events) == 1 and events[0].details["verificados"] == 2
    svc.signals.send(Sweep())  # asked again within the throttle window: nothing new
    with session_scope(svc.sessions) as s:
        assert len(list(s.scalars(select(AuditEvent.id).where(
            AuditEvent.action == "integridad.verificar")))) == 1
    svc.dispose()


# -- the same object checks on a real S3 server ----------------------------------


@pytest.fixture
def s3_archive(tmp_path: Path, seaweed_s3: SeaweedS3) -> Iterator[Services]:
    from archivo_cli.bootstrap import initialize

    bucket = f"fixity-{uuid.uuid4().hex[:12]}"
    svc = make_services(tmp_path / "var", ARCHIVO_STORAGE_URL=seaweed_s3.storage_url(bucket))
    initialize(svc)
    yield svc
    svc.dispose()


@pytest.mark.s3
def test_s3_corruption_missing_and_orphans(s3_archive: Services) -> None:
    svc = s3_archive
    good = add_document(svc)
    bad = add_document(svc)
    index_pending(svc)
    assert run(svc).exit_code == 0

    original = svc.store.get_bytes(bad["original"])
    svc.store.put_bytes(bad["original"], original[::-1])  # same size, other bytes
    svc.store.delete(bad["thumb"])
    svc.store.put_bytes("pdf/ee/ff/suelto.pdf", b"sin fila")  # young orphan
    out = run(svc, "--objetos")
    assert out.exit_code == 1, out.output
    assert f"Dañado: el original de {bad['number']}" in out.output
    assert f"Falta la miniatura de la página 2 de {bad['number']}" in out.output
    assert "Huérfanos recientes" in out.output and "pdf/ee/ff/suelto.pdf" in out.output
    assert good["number"] not in out.output
    out = run(svc, "--objetos", "--limpiar", "--gracia", "0")
    assert "Huérfanos eliminados (más de 0 día(s)): 1" in out.output
    assert not svc.store.exists("pdf/ee/ff/suelto.pdf")
    assert svc.store.exists(bad["original"])  # damaged, but referenced: never deleted
    out = run(svc, "--objetos", "--muestra", "10")
    assert out.exit_code == 1 and f"original de {bad['number']}" in out.output


def test_a_pdf_being_rebuilt_is_skipped_not_reported(archive: Services) -> None:
    doc = add_document(archive)
    archive.store.put_bytes(doc["pdf"], b"%PDF nuevo, a medio escribir por un trabajador")
    with session_scope(archive.sessions) as s:
        s.execute(update(Document).where(Document.archive_number == doc["number"])
                  .values(status=DocumentStatus.PROCESANDO))
    report = fixity.check_objects(archive)
    # its PDF and its 6 page derivatives (rewritten by the same run) are skipped
    assert report.ok and report.skipped == 7 and not report.orphans and not report.young_orphans


def test_a_lock_left_by_a_killed_worker_expires(archive: Services) -> None:
    night = dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.timezone.utc)
    key = fixity._lock_key(archive)
    archive.huey.put(key, str(dt.datetime.now().timestamp()))  # another worker is running it
    assert fixity.run_nightly(archive, sample=1, now=night) is None
    archive.huey.delete(key)
    archive.huey.put(key, "0")  # held since 1970: its worker died
    assert fixity.run_nightly(archive, sample=1, now=night) is not None
    assert archive.huey.get(key, peek=True) is None  # released after the run
