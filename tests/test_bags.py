"""BagIt export and restore: a wiped instance restored from a bag is the same archive."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.audit import verify_chain
from archive.db import session_scope
from archive.document_view import load_document
from archive.models import (AuditEvent, Blob, Document, DocumentIdentifier, DocumentSupply, Page,
                            RegionalUnit, Sequence, Supply)
from archive.registry.models import SupplyAlias
from archive.services import Services
from archivo_cli.bootstrap import initialize
from archivo_cli.main import cli
from ingest.accept import accept_stream
from ingest.process import process_document
from search.indexer import index_pending
from search.query import search
from tests import scans
from tests.conftest import home_env, make_services

pytestmark = pytest.mark.slow

ALIAS = "7777777"  # a former number of the first document's supply


def run(svc: Services, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=home_env(svc.settings.home),
                              catch_exceptions=False)


def fresh(path: Path) -> Services:
    svc = make_services(path)
    initialize(svc)
    return svc


@dataclass
class Source:
    svc: Services
    numbers: list[str]  # archive numbers in ingest order
    nis: list[list[str]]  # linked NIS of each document
    bag: Path  # «export --todo» of the source archive


def _ingest(svc: Services, path: Path, **kw: Any) -> tuple[str, list[str]]:
    with path.open("rb") as fh:
        acc = accept_stream(svc, fh, path.name, actor="prueba", enqueue=False, **kw)
    process_document(svc, acc.document_id)
    with session_scope(svc.sessions) as s:
        doc = s.get(Document, acc.document_id)
        assert doc is not None and doc.page_count >= 1
        return doc.archive_number, doc.nis_list


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """Three small OCR'd documents (PNG, JPEG, two-page PDF), a supply with an alias, indexed."""
    tmp = tmp_path_factory.mktemp("origen")
    svc = fresh(tmp / "var")
    img1, _ = scans.page(seed=3, doc_type="contrato")
    img2, _ = scans.page(seed=5, doc_type="orden_trabajo")
    img3a, _ = scans.page(seed=7, doc_type="acuerdo_pago")
    img3b, _ = scans.page(seed=8, lines=["Segunda hoja del acuerdo", "Firma del titular"])
    docs = [
        _ingest(svc, scans.write(img1, tmp / "contrato.png", "PNG")),
        _ingest(svc, scans.write(img2, tmp / "orden.jpg", "JPEG", dpi=(150, 150)),
                nis=["1234567"]),
        _ingest(svc, scans.write([img3a, img3b], tmp / "acuerdo.pdf", "PDF")),
    ]
    first_nis = docs[0][1][0]
    with session_scope(svc.sessions) as s:
        unit = s.scalars(select(RegionalUnit).order_by(RegionalUnit.code)).first()
        s.add(Supply(nis=first_nis, holder_name="María González", city="Luque",
                     regional_unit_id=unit.id if unit else None, tariff="residencial"))
        s.add(SupplyAlias(old_nis=ALIAS, nis=first_nis, kind="renumerado", created_by="prueba"))
    index_pending(svc)
    bag = tmp / "bolsa"
    out = run(svc, "export", "--todo", str(bag))
    assert out.exit_code == 0, out.output
    assert "3 documento(s)" in out.output
    yield Source(svc, [n for n, _ in docs], [n for _, n in docs], bag)
    svc.dispose()


# -- helpers that describe an archive ------------------------------------------

def objects(svc: Services) -> dict[str, str]:
    """Every stored object and the SHA-256 of its bytes."""
    out = {}
    for info in svc.store.iterate(""):
        with svc.store.open(info.key) as fh:
            out[info.key] = hashlib.sha256(fh.read()).hexdigest()
    return out


def documents(svc: Services) -> dict[str, dict[str, Any]]:
    """What people see of each document (read model), without local ids and history."""
    out = {}
    with session_scope(svc.sessions) as s:
        for doc_id in s.scalars(select(Document.id)):
            view = load_document(s, doc_id)
            assert view is not None
            data = view.as_dict()
            for volatile in ("id", "history"):
                data.pop(volatile)
            out[view.archive_number] = data
    return out


def counts(svc: Services) -> dict[str, int]:
    with session_scope(svc.sessions) as s:
        return {m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Document, Blob, Page, DocumentSupply, DocumentIdentifier, AuditEvent,
                          Supply, SupplyAlias, RegionalUnit)}


def hits(svc: Services, query: str) -> list[tuple[str, int, list[str]]]:
    found = search(svc, query, per_page=50)
    return sorted((h.archive_number, h.page, h.nis) for h in found.hits)


def manifest(bag: Path) -> dict[str, str]:
    lines = (bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
    return {path: digest for digest, path in (line.split(None, 1) for line in lines)}


def metadata(bag: Path) -> dict[str, dict[str, Any]]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((bag / "data" / "documentos").glob("*/metadatos.json"))}


def without_restores(meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "auditoria": [e for e in meta["auditoria"]
                                  if e["accion"] != "documento.restaurar"]}


# -- tests ---------------------------------------------------------------------

def test_bag_layout(source: Source) -> None:
    bag = source.bag
    assert sorted(p.name for p in bag.iterdir()) == [
        "bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt", "tagmanifest-sha256.txt"]
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    assert "Archivo-Version: 0.1.0" in info and "Archivo-Seleccion: todo" in info
    assert "Archivo-Exportado: " in info
    first = bag / "data" / "documentos" / source.numbers[0]
    assert {p.name for p in first.iterdir()} == {
        "original.png", "buscable.pdf", "metadatos.json", "pagina-0001.txt",
        "pagina-0001-web.jpg", "pagina-0001-miniatura.jpg", "pagina-0001-palabras.json.gz"}
    third = bag / "data" / "documentos" / source.numbers[2]
    assert (third / "original.pdf").is_file() and (third / "pagina-0002.txt").is_file()
    assert (bag / "data" / "documentos" / source.numbers[1] / "original.jpg").is_file()
    meta = json.loads((first / "metadatos.json").read_text(encoding="utf-8"))
    assert meta["numero"] == source.numbers[0] and meta["estado"] in ("listo", "revisar")
    assert [l["nis"] for l in meta["nis"]] == source.nis[0]
    assert meta["nis"][0]["origen"] == "ocr" and meta["nis"][0]["creado"]
    assert [e["accion"] for e in meta["auditoria"]] == ["documento.recibir", "documento.procesar"]
    assert "SUMINISTRO" in (first / "pagina-0001.txt").read_text(encoding="utf-8").upper()
    supplies = json.loads((bag / "data" / "suministros.json").read_text(encoding="utf-8"))
    assert [s["nis"] for s in supplies["suministros"]] == source.nis[0]
    assert supplies["suministros"][0]["unidad_regional"]["codigo"]
    assert [a["nis_anterior"] for a in supplies["alias"]] == [ALIAS]


def test_wipe_and_restore_gives_the_same_archive(source: Source, tmp_path: Path) -> None:
    target = fresh(tmp_path / "nuevo")  # the wiped instance: a fresh ARCHIVO_HOME
    try:
        out = run(target, "import-bag", str(source.bag))
        assert out.exit_code == 0, out.output
        assert "Documentos restaurados: 3; ya estaban: 0" in out.output
        assert target.index_huey.pending_count() >= 1  # the indexer was asked to run
        index_pending(target)  # what the woken indexer does, run here synchronously

        assert objects(target) == objects(source.svc)
        assert documents(target) == documents(source.svc)
        for query in ("suministro", source.nis[0][0], ALIAS, "1234567"):
            assert hits(target, query) == hits(source.svc, query), query
        assert hits(target, "suministro") and hits(target, ALIAS)

        # A bag of the restored archive carries the same files and, history aside, metadata.
        again = tmp_path / "otra"
        assert run(target, "export", "--todo", str(again)).exit_code == 0
        first, second = manifest(source.bag), manifest(again)
        assert {k: v for k, v in first.items() if not k.endswith("metadatos.json")} == \
               {k: v for k, v in second.items() if not k.endswith("metadatos.json")}
        before, after = metadata(source.bag), metadata(again)
        assert {k: without_restores(v) for k, v in after.items()} == before
        assert (again / "data" / "suministros.json").read_bytes() == \
               (source.bag / "data" / "suministros.json").read_bytes()

        with session_scope(target.sessions) as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            assert verify_chain(events) == []
            restores = [e for e in events if e.action == "documento.restaurar"]
            assert sorted(e.object_id for e in restores) == sorted(source.numbers)
            for e in restores:
                assert e.details["eventos"] == before[e.object_id]["auditoria"]
                assert e.details["eventos_verificados"] == len(e.details["eventos"])
            year = source.numbers[0][4:8]
            assert s.get(Sequence, f"ARC-{year}").value >= 3  # type: ignore[union-attr]

        # Importing the same bag again creates nothing.
        snapshot, stored = counts(target), objects(target)
        out = run(target, "import-bag", str(source.bag))
        assert out.exit_code == 0, out.output
        assert "Documentos restaurados: 0; ya estaban: 3; completados: 0" in out.output
        assert counts(target) == snapshot and objects(target) == stored
    finally:
        target.dispose()


def test_existing_document_gets_back_lost_links_and_objects(source: Source,
                                                            tmp_path: Path) -> None:
    target = fresh(tmp_path / "danado")
    try:
        assert run(target, "import-bag", str(source.bag)).exit_code == 0
        number = source.numbers[1]
        with session_scope(target.sessions) as s:
            doc = s.scalar(select(Document).where(Document.archive_number == number))
            assert doc is not None
            web_key = doc.pages[0].image_key
            s.execute(DocumentSupply.__table__.delete().where(
                DocumentSupply.document_id == doc.id, DocumentSupply.nis == "1234567"))
            doc.index_due = False
        target.store.delete(web_key)
        out = run(target, "import-bag", str(source.bag))
        assert out.exit_code == 0, out.output
        assert "Documentos restaurados: 0; ya estaban: 2; completados: 1" in out.output
        assert "Objetos repuestos en el almacenamiento: 1" in out.output
        assert target.store.exists(web_key)
        with session_scope(target.sessions) as s:
            doc = s.scalar(select(Document).where(Document.archive_number == number))
            assert "1234567" in doc.nis_list and doc.index_due  # type: ignore[union-attr]
            event = s.scalars(select(AuditEvent).where(AuditEvent.object_id == number)
                              .order_by(AuditEvent.id.desc())).first()
            assert event is not None and event.action == "documento.restaurar"
            assert event.details["modo"] == "existente"
            assert event.details["nis_agregados"] == ["1234567"]
            assert event.details["objetos_reparados"] == 1
    finally:
        target.dispose()


def test_import_into_the_source_archive_creates_nothing(source: Source) -> None:
    snapshot = counts(source.svc)
    out = run(source.svc, "import-bag", str(source.bag))
    assert out.exit_code == 0, out.output
    assert "ya estaban: 3" in out.output and counts(source.svc) == snapshot


def test_number_in_use_for_other_bytes_is_not_reused(source: Source, tmp_path: Path) -> None:
    target = fresh(tmp_path / "ocupado")
    try:
        other = scans.write(scans.page(seed=11)[0], tmp_path / "otro.png", "PNG")
        with other.open("rb") as fh:
            acc = accept_stream(target, fh, "otro.png", actor="prueba", enqueue=False)
        assert acc.archive_number == source.numbers[0]  # the same first number of the year
        out = run(target, "import-bag", str(source.bag))
        assert out.exit_code == 0, out.output
        year = source.numbers[0][4:8]
        new = f"ARC-{year}-000004"
        assert f"{source.numbers[0]} ya estaba en uso: se restauró como {new}" in out.output
        with session_scope(target.sessions) as s:
            numbers = set(s.scalars(select(Document.archive_number)))
            assert numbers == {acc.archive_number, new, *source.numbers[1:]}
            moved = s.scalar(select(AuditEvent).where(AuditEvent.object_id == new,
                                                      AuditEvent.action == "documento.restaurar"))
            assert moved is not None and moved.details["numero_en_bolsa"] == source.numbers[0]
        # and a later upload never collides with the restored numbers
        more = scans.write(scans.page(seed=12)[0], tmp_path / "mas.png", "PNG")
        with more.open("rb") as fh:
            later = accept_stream(target, fh, "mas.png", actor="prueba", enqueue=False)
        assert later.archive_number == f"ARC-{year}-000005"
    finally:
        target.dispose()


def test_export_by_nis_and_by_archive_number(source: Source, tmp_path: Path) -> None:
    by_nis = tmp_path / "por_nis"
    out = run(source.svc, "export", "1234567", str(by_nis))
    assert out.exit_code == 0, out.output
    assert list(metadata(by_nis)) == [source.numbers[1]]
    assert "Archivo-Seleccion: NIS 1234567" in (by_nis / "bag-info.txt").read_text()

    by_alias = tmp_path / "por_alias"  # a former NIS selects the documents of the current one
    assert run(source.svc, "export", ALIAS, str(by_alias)).exit_code == 0
    assert list(metadata(by_alias)) == [source.numbers[0]]

    by_number = tmp_path / "por_numero"
    out = run(source.svc, "export", source.numbers[2], source.numbers[0].lower(), str(by_number))
    assert out.exit_code == 0, out.output
    assert list(metadata(by_number)) == sorted([source.numbers[0], source.numbers[2]])

    missing = run(source.svc, "export", "9999999", str(tmp_path / "nada"))
    assert missing.exit_code == 1 and "Ningún documento está vinculado al NIS 9999999" in missing.output
    assert not (tmp_path / "nada").exists() and not (tmp_path / "nada.parcial").exists()
    nothing = run(source.svc, "export", str(tmp_path / "nada"))
    assert nothing.exit_code == 1 and "Indique qué exportar" in nothing.output
    busy = run(source.svc, "export", "--todo", str(by_nis))
    assert busy.exit_code == 1 and "no es una carpeta vacía" in busy.output


@pytest.mark.parametrize("damage", ["texto", "original", "falta", "sobra"])
def test_damaged_bag_is_refused(source: Source, tmp_path: Path, damage: str) -> None:
    bag = tmp_path / "bolsa"
    shutil.copytree(source.bag, bag)
    folder = bag / "data" / "documentos" / source.numbers[1]
    if damage == "texto":  # same size, different bytes
        page = folder / "pagina-0001.txt"
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace("N", "M", 1), encoding="utf-8")
        bad = f"data/documentos/{source.numbers[1]}/pagina-0001.txt"
    elif damage == "original":  # bytes appended: Payload-Oxum fails first, the file is still named
        with (folder / "original.jpg").open("ab") as fh:
            fh.write(b"\0")
        bad = f"data/documentos/{source.numbers[1]}/original.jpg"
    elif damage == "falta":
        (folder / "buscable.pdf").unlink()
        bad = f"data/documentos/{source.numbers[1]}/buscable.pdf"
    else:
        (folder / "extra.txt").write_text("x")
        bad = f"data/documentos/{source.numbers[1]}/extra.txt"
    target = fresh(tmp_path / "destino")
    try:
        out = run(target, "import-bag", str(bag))
        assert out.exit_code == 1
        assert "está dañada" in out.output and bad in out.output, out.output
        assert "No se importó nada" in out.output
        assert counts(target)["Document"] == 0 and not objects(target)
    finally:
        target.dispose()


def test_not_a_bag_is_refused(source: Source, tmp_path: Path) -> None:
    (tmp_path / "cosas").mkdir()
    out = run(source.svc, "import-bag", str(tmp_path / "cosas"))
    assert out.exit_code == 1 and "no es una bolsa BagIt válida" in out.output
