"""`archivo import-bag` restores all of a bag or nothing of it, and says what it did.

A bag whose file was changed and whose manifests were then recomputed passes
BagIt's own validation; the sums recorded in each document's metadata catch
it before anything is written. A failure while writing (the store goes down)
leaves no orphan object and names what was and was not restored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import bagit
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.db import session_scope
from archive.errors import StorageError
from archive.models import AuditEvent, Blob, Document, Page
from archive.services import Services
from archive.storage.base import ObjectStore
from archivo_cli.bootstrap import initialize
from archivo_cli.main import cli
from ingest.accept import accept_stream
from ingest.process import process_document
from tests import scans
from tests.conftest import home_env, make_services


def run(svc: Services, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=home_env(svc.settings.home),
                              catch_exceptions=False)


def fresh(path: Path) -> Services:
    svc = make_services(path)
    initialize(svc)
    return svc


@dataclass
class Source:
    numbers: list[str]
    bag: Path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """Two received documents and a processed text PDF (searchable PDF and page derivatives)."""
    tmp = tmp_path_factory.mktemp("origen")
    svc = fresh(tmp / "var")
    files = [scans.write(scans.page(seed=3)[0], tmp / "uno.png", "PNG"),
             scans.write(scans.page(seed=5)[0], tmp / "dos.png", "PNG"),
             scans.born_digital_pdf(tmp / "tres.pdf", ["Contrato de suministro", "NIS 1234567"])]
    numbers = []
    for path in files:
        with path.open("rb") as fh:
            acc = accept_stream(svc, fh, path.name, actor="prueba", enqueue=False)
        numbers.append(acc.archive_number)
    process_document(svc, acc.document_id)
    bag = tmp / "bolsa"
    out = run(svc, "export", "--todo", str(bag))
    assert out.exit_code == 0, out.output
    svc.dispose()
    yield Source(numbers, bag)


def tampered(source: Source, tmp_path: Path, name: str) -> Path:
    """A copy of the bag with one file of the third document changed, manifests recomputed."""
    bag = tmp_path / "bolsa"
    import shutil
    shutil.copytree(source.bag, bag)
    target = bag / "data" / "documentos" / source.numbers[2] / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    fixed = bagit.Bag(str(bag))
    fixed.save(manifests=True)
    bagit.Bag(str(bag)).validate()  # BagIt alone finds nothing wrong
    return bag


def written(svc: Services) -> tuple[int, int, list[str]]:
    with session_scope(svc.sessions) as s:
        docs = s.scalar(select(func.count()).select_from(Document)) or 0
        restores = s.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "documento.restaurar")) or 0
    return docs, restores, [info.key for info in svc.store.iterate("")]


def unnamed(svc: Services) -> list[str]:
    """Stored objects no row names (orphans)."""
    with session_scope(svc.sessions) as s:
        named = set(s.scalars(select(Blob.storage_key)))
        for column in (Page.image_key, Page.thumb_key, Page.words_key):
            named |= set(s.scalars(select(column).where(column.is_not(None))))
    return [info.key for info in svc.store.iterate("") if info.key not in named]


@pytest.mark.parametrize("name", ["original.pdf", "buscable.pdf", "pagina-0001-web.jpg"])
def test_file_changed_and_manifest_recomputed_writes_nothing(source: Source, tmp_path: Path,
                                                              name: str) -> None:
    bag = tampered(source, tmp_path, name)
    target = fresh(tmp_path / "destino")
    try:
        out = run(target, "import-bag", str(bag))
        assert out.exit_code == 1, out.output
        assert f"data/documentos/{source.numbers[2]}/{name}" in out.output
        assert "no coincide con la suma SHA-256 que registran sus metadatos" in out.output
        assert "No se importó nada" in out.output
        assert written(target) == (0, 0, [])
    finally:
        target.dispose()


def test_bad_metadata_of_a_later_document_writes_nothing(source: Source, tmp_path: Path) -> None:
    import shutil
    bag = tmp_path / "bolsa"
    shutil.copytree(source.bag, bag)
    meta_path = bag / "data" / "documentos" / source.numbers[2] / "metadatos.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["estado"] = "inventado"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    bagit.Bag(str(bag)).save(manifests=True)
    target = fresh(tmp_path / "destino")
    try:
        out = run(target, "import-bag", str(bag))
        assert out.exit_code == 1, out.output
        assert source.numbers[2] in out.output and "No se importó nada" in out.output
        assert "Traceback" not in out.output
        assert written(target) == (0, 0, [])
    finally:
        target.dispose()


def test_store_failure_midway_leaves_no_orphan_and_says_what_was_restored(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = ObjectStore.put

    def failing_put(self: ObjectStore, key: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if key.startswith("pdf/"):  # the third document's searchable PDF, after its original
            raise StorageError("El almacenamiento de objetos no responde.")
        return real_put(self, key, *args, **kwargs)

    target = fresh(tmp_path / "destino")
    try:
        monkeypatch.setattr(ObjectStore, "put", failing_put)
        out = run(target, "import-bag", str(source.bag))
        assert out.exit_code == 1, out.output
        text = " ".join(out.output.split())
        first, second, third = source.numbers
        assert f"La restauración se detuvo en {third}" in text
        assert "El almacenamiento de objetos no responde." in text
        assert f"Restaurados (2): {first}, {second}." in text
        assert f"No restaurados (1): {third}." in text
        docs, restores, keys = written(target)
        assert (docs, restores, len(keys)) == (2, 2, 2)
        assert unnamed(target) == []  # the third original was written, then removed again

        monkeypatch.setattr(ObjectStore, "put", real_put)
        again = run(target, "import-bag", str(source.bag))
        assert again.exit_code == 0, again.output
        assert "Documentos restaurados: 1; ya estaban: 2" in again.output
        assert f"Restaurados: {third}." in again.output
        assert written(target)[:2] == (3, 3) and unnamed(target) == []
    finally:
        target.dispose()
