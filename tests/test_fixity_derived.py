"""`archivo check` on page derivatives (recorded sums, legacy rows); the streamed orphan search."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import event, select, update

from archive import fixity
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import AuditEvent, Document, Page
from archive.services import Services
from archive.storage import ObjectInfo
from tests import scans
from tests.conftest import make_services
from tests.fixtures.seaweed import SeaweedS3
from tests.test_fixity import _age, _file, add_document, run


def _flip(svc: Services, key: str) -> None:
    """Same size, other bytes: only the hash can tell."""
    data = bytearray(svc.store.get_bytes(key))
    data[0] ^= 0xFF
    svc.store.put_bytes(key, bytes(data))


def _sums(svc: Services) -> dict[str, tuple[str | None, int | None]]:
    """Every page derivative key -> its recorded (sha256, size)."""
    out: dict[str, tuple[str | None, int | None]] = {}
    with session_scope(svc.sessions) as s:
        for page in s.scalars(select(Page)):
            for kind in ("image", "thumb", "words"):
                key = getattr(page, f"{kind}_key")
                if key:
                    out[key] = (getattr(page, f"{kind}_sha256"), getattr(page, f"{kind}_size"))
    return out


def _actual(svc: Services, key: str) -> tuple[str, int]:
    data = svc.store.get_bytes(key)
    return hashlib.sha256(data).hexdigest(), len(data)


# -- damaged derivatives -------------------------------------------------------------


def test_a_damaged_page_image_is_a_problem_with_what_to_do(services: Services) -> None:
    good = add_document(services)
    bad = add_document(services)
    _flip(services, bad["image"])
    words = _file(services, bad["words"])
    words.write_bytes(words.read_bytes() + b"x")  # one byte more
    out = run(services, "--objetos")
    assert out.exit_code == 1, out.output
    assert "Dañados (no coinciden con su suma SHA-256): 2" in out.output
    assert f"Dañada: la imagen de la página 1 de {bad['number']} ({bad['image']})" in out.output
    assert f"Dañadas: las palabras de la página 1 de {bad['number']}" in out.output
    assert f"«archivo regenerar {bad['number']}»" in out.output
    assert "Derivados faltantes o dañados en 1 documento(s)" in out.output
    assert good["number"] not in out.output
    report = fixity.check_objects(services)
    assert sorted(report.corrupted) == sorted([bad["image"], bad["words"]])
    assert report.regenerate == [bad["number"]] and report.derivatives_hashed == 12
    # the rotating sample re-hashes the derivatives of the documents it picks
    sample = fixity.check_objects(services, sample=100)
    assert sorted(sample.corrupted) == sorted([bad["image"], bad["words"]])
    # nothing named by a row is deleted, damaged or not
    assert run(services, "--objetos", "--limpiar", "--gracia", "0").exit_code == 1
    assert services.store.exists(bad["image"]) and services.store.exists(bad["words"])


def test_the_damaged_line_names_the_kind_and_sizes(services: Services) -> None:
    doc = add_document(services)
    words = _file(services, doc["words"])
    before = words.stat().st_size
    words.write_bytes(words.read_bytes() + b"x")
    lines = fixity.check_objects(services).problem_lines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Dañadas: las palabras de la página 1 de {doc['number']}")
    assert f"{before + 1} de {before} bytes" in lines[0]


def test_a_derivative_rewritten_by_a_running_worker_is_skipped(services: Services) -> None:
    doc = add_document(services)
    _flip(services, doc["image"])
    services.store.delete(doc["thumb"])  # a batch upload discards its pages while processing
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.archive_number == doc["number"])
                  .values(status=DocumentStatus.PROCESANDO))
    report = fixity.check_objects(services)
    assert report.ok and report.skipped == 7  # its PDF and its six page derivatives


# -- rows from before the sums were recorded ---------------------------------------


def test_legacy_rows_are_counted_not_failed_and_registrar_sumas_fills_them(
        services: Services) -> None:
    add_document(services)  # recorded sums, as ingest writes now
    legacy = add_document(services, sums=False)
    out = run(services, "--objetos")
    assert out.exit_code == 0, out.output
    assert "Derivados de página presentes: 12" in out.output
    assert "Derivados de página verificados con SHA-256: 6" in out.output
    assert ("Derivados de página sin suma registrada (solo se comprobó que existen): 6"
            in out.output)
    assert "«archivo check --objetos --registrar-sumas»" in out.output
    with session_scope(services.sessions) as s:
        details = s.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "integridad.verificar")).one()
    assert details["sin_suma"] == 6 and details["derivados_verificados"] == 6

    # a legacy derivative that is gone is still missing, sum or no sum
    services.store.delete(legacy["thumb"])
    out = run(services, "--objetos")
    assert out.exit_code == 1
    assert f"Falta la miniatura de la página 2 de {legacy['number']}" in out.output
    services.store.put_bytes(legacy["thumb"], b"miniatura repuesta")

    out = run(services, "--objetos", "--registrar-sumas")
    assert out.exit_code == 0, out.output
    assert "Sumas registradas ahora: 6" in out.output
    sums = _sums(services)
    assert all(sums[key] == _actual(services, key) for key in sums)
    out = run(services, "--objetos")
    assert "sin suma registrada" not in out.output
    assert "Derivados de página verificados con SHA-256: 12" in out.output
    # from now on its damage is detected like any other
    _flip(services, legacy["image"])
    assert run(services, "--objetos").exit_code == 1


def test_registrar_sumas_leaves_documents_being_processed_alone(services: Services) -> None:
    doc = add_document(services, sums=False)
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.archive_number == doc["number"])
                  .values(status=DocumentStatus.PROCESANDO))
    report = fixity.check_objects(services, fill_sums=True)
    assert report.registered == 0 and report.skipped == 7
    assert all(sha is None for sha, _ in _sums(services).values())
    # the sampled run fills too, for the documents it picks
    with session_scope(services.sessions) as s:
        s.execute(update(Document).values(status=DocumentStatus.LISTO))
    report = fixity.check_objects(services, sample=10, fill_sums=True)
    assert report.registered == 6 and report.unsummed == 6


def test_registrar_sumas_needs_the_object_check(services: Services) -> None:
    out = run(services, "--indice", "--registrar-sumas")
    assert out.exit_code == 2 and "--objetos" in out.output


# -- ingest records the sums when it writes ------------------------------------------


def test_ingest_records_the_sum_of_every_derivative(services: Services, tmp_path: Path) -> None:
    from ingest.accept import accept_stream
    from ingest.process import process_document

    img, _ = scans.page(seed=3, doc_type="contrato")
    path = scans.write(img, tmp_path / "contrato.png", "PNG")
    with path.open("rb") as fh:
        acc = accept_stream(services, fh, path.name, actor="prueba", enqueue=False)
    process_document(services, acc.document_id)
    sums = _sums(services)
    assert len(sums) == 3
    assert all(sums[key] == _actual(services, key) for key in sums)
    report = fixity.check_objects(services)
    assert report.ok and report.derivatives_hashed == 3 and report.unsummed == 0
    # processed again: new rows, sums of the bytes written this time
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.id == acc.document_id)
                  .values(status=DocumentStatus.RECIBIDO))
    process_document(services, acc.document_id)
    sums = _sums(services)
    assert all(sums[key] == _actual(services, key) for key in sums)


# -- bag import records the sums the bag vouches for ---------------------------------


def test_bag_import_records_sums_and_repairs_only_matching_bytes(services: Services,
                                                                 tmp_path: Path) -> None:
    from click.testing import CliRunner

    from archivo_cli.bootstrap import initialize
    from archivo_cli.main import cli
    from ingest.accept import accept_stream
    from ingest.process import process_document
    from tests.conftest import home_env

    def cli_run(svc: Services, *args: str):  # type: ignore[no-untyped-def]
        out = CliRunner().invoke(cli, list(args), env=home_env(svc.settings.home),
                                 catch_exceptions=False)
        assert out.exit_code == 0, out.output
        return out

    img, _ = scans.page(seed=5, doc_type="orden_trabajo")
    path = scans.write(img, tmp_path / "orden.png", "PNG")
    with path.open("rb") as fh:
        process_document(services, accept_stream(services, fh, path.name, actor="prueba",
                                                 enqueue=False).document_id)
    cli_run(services, "export", "--todo", str(tmp_path / "bolsa"))
    target = make_services(tmp_path / "destino")
    initialize(target)
    try:
        cli_run(target, "import-bag", str(tmp_path / "bolsa"))
        sums = _sums(target)
        assert len(sums) == 3 and sums == _sums(services)
        assert all(sums[key] == _actual(target, key) for key in sums)
        report = fixity.check_objects(target)
        assert report.ok and report.derivatives_hashed == 3 and report.unsummed == 0

        # a row from before sums were recorded, whose image was lost: repaired and recorded
        image = next(k for k in sums if k.endswith("-web.jpg"))
        thumb = next(k for k in sums if k.endswith("-thumb.jpg"))
        with session_scope(target.sessions) as s:
            s.execute(update(Page).values(image_sha256=None, image_size=None,
                                          thumb_sha256="0" * 64))
        target.store.delete(image)
        target.store.delete(thumb)
        out = cli_run(target, "import-bag", str(tmp_path / "bolsa"))
        assert "Objetos repuestos en el almacenamiento: 1" in out.output
        assert _sums(target)[image] == _actual(target, image)
        # the recorded thumbnail sum is not the bag's: those bytes are not put back
        assert not target.store.exists(thumb)
        report = fixity.check_objects(target)
        assert report.missing == [thumb] and report.unsummed == 0
    finally:
        target.dispose()


# -- orphans: the listing is streamed and asked about in chunks ------------------------


@pytest.fixture
def counted(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """How many listed objects were read each time a chunk query ran."""
    state: dict[str, Any] = {"yielded": 0, "queries": []}
    real = services.store.iterate

    def iterate(prefix: str = "") -> Iterator[ObjectInfo]:
        for info in real(prefix):
            state["yielded"] += 1
            yield info

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "UNION ALL" in statement:
            state["queries"].append(state["yielded"])

    monkeypatch.setattr(services.store, "iterate", iterate)
    event.listen(services.engine, "before_cursor_execute", before)
    yield state
    event.remove(services.engine, "before_cursor_execute", before)


def test_orphans_are_found_chunk_by_chunk_with_one_query_each(
        services: Services, counted: dict[str, Any]) -> None:
    doc = add_document(services)  # 8 named objects: original, PDF, six page derivatives
    old = [services.store.put_bytes(f"pdf/00/00/viejo-{i:02d}.pdf", b"suelto").key
           for i in range(12)]
    young = [services.store.put_bytes(f"pages/ff/ff/nuevo-{i}/0001-web.jpg", b"reciente").key
             for i in range(5)]
    for key in old:
        _age(services, key, 10)
    _age(services, doc["original"], 400)  # named: old is not orphan

    report = fixity.check_objects(services, list_chunk=10)
    assert report.listed == 25
    # one query per chunk of 10, each asked before more than that chunk was read
    assert counted["queries"] == [10, 20, 25]
    assert sorted(o.key for o in report.orphans) == old
    assert sorted(o.key for o in report.young_orphans) == young
    assert report.problems == 12 and not report.removed

    counted["queries"].clear()
    counted["yielded"] = 0
    report = fixity.check_objects(services, clean=True, list_chunk=10)
    assert sorted(report.removed) == old and report.ok
    # each chunk holding old orphans is asked once more, in one query, right before deleting
    assert len(counted["queries"]) <= 6
    assert not any(services.store.exists(k) for k in old)
    assert all(services.store.exists(k) for k in young)
    assert all(services.store.exists(doc[k]) for k in ("original", "pdf", "image", "thumb"))


def test_an_orphan_named_before_deletion_is_kept(services: Services,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    doc = add_document(services)
    key = services.store.put_bytes("pages/aa/aa/tardio/0001-web.jpg", b"tarde").key
    _age(services, key, 30)
    real = fixity._named_keys
    calls = {"n": 0}

    def named(session: Any, keys: list[str]) -> set[str]:
        calls["n"] += 1
        if calls["n"] == 2:  # a row names it between the chunk query and the deletion
            with session_scope(services.sessions) as s:
                s.execute(update(Page).where(Page.image_key == doc["image"])
                          .values(image_key=key, image_sha256=None, image_size=None))
        return real(session, keys)

    monkeypatch.setattr(fixity, "_named_keys", named)
    report = fixity.check_objects(services, clean=True)
    assert services.store.exists(key) and not report.removed and not report.orphans


# -- the same on a real S3 server ------------------------------------------------------


@pytest.fixture
def s3_services(tmp_path: Path, seaweed_s3: SeaweedS3) -> Iterator[Services]:
    from archivo_cli.bootstrap import initialize

    bucket = f"derivados-{uuid.uuid4().hex[:12]}"
    svc = make_services(tmp_path / "var", ARCHIVO_STORAGE_URL=seaweed_s3.storage_url(bucket))
    initialize(svc)
    yield svc
    svc.dispose()


@pytest.mark.s3
def test_s3_damaged_derivative_legacy_rows_and_streamed_orphans(s3_services: Services) -> None:
    svc = s3_services
    good = add_document(svc)
    bad = add_document(svc)
    legacy = add_document(svc, sums=False)
    _flip(svc, bad["thumb"])
    loose = [svc.store.put_bytes(f"pdf/ee/ff/suelto-{i}.pdf", b"sin fila").key for i in range(3)]
    report = fixity.check_objects(svc, list_chunk=4)
    assert report.corrupted == [bad["thumb"]] and report.regenerate == [bad["number"]]
    assert report.unsummed == 6 and report.derivatives_hashed == 12
    assert report.listed == 27 and sorted(o.key for o in report.young_orphans) == loose
    out = run(svc, "--objetos")
    assert out.exit_code == 1
    assert f"Dañada: la miniatura de la página 2 de {bad['number']}" in out.output
    assert good["number"] not in out.output and legacy["number"] not in out.output
    report = fixity.check_objects(svc, clean=True, grace_days=0, fill_sums=True, list_chunk=4)
    assert sorted(report.removed) == loose and report.registered == 6
    assert not any(svc.store.exists(k) for k in loose)
    assert all(_sums(svc)[k] == _actual(svc, k) for k in (legacy["image"], legacy["words"]))


# -- and on PostgreSQL, where the chunk query and the conditional update run too ------


def test_derivative_checks_on_both_databases(db_url: str, tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    initialize(svc)
    try:
        add_document(svc)
        bad = add_document(svc)
        legacy = add_document(svc, sums=False)
        _flip(svc, bad["words"])
        loose = svc.store.put_bytes("pdf/00/00/suelto.pdf", b"sin fila").key
        _age(svc, loose, 30)
        report = fixity.check_objects(svc, list_chunk=3, fill_sums=True)
        assert report.corrupted == [bad["words"]] and report.listed == 25
        assert [o.key for o in report.orphans] == [loose]
        assert report.unsummed == 6 and report.registered == 6
        assert _sums(svc)[legacy["image"]] == _actual(svc, legacy["image"])
        report = fixity.check_objects(svc, list_chunk=3, clean=True)
        assert report.removed == [loose] and report.unsummed == 0 and report.problems == 1
    finally:
        svc.dispose()
