"""`archivo regenerar`: derivatives rebuilt from the original, and nothing else touched."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from archive import editing, fixity
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import AuditEvent, Blob, Document, Page
from archive.services import Services
from archivo_cli import regenerate_cmd, search_cmd
from ingest.accept import accept_stream
from ingest.process import process_document
from ingest.regenerate import ACTION, RegenerateRefused, regenerate_document
from tests import scans
from tests.conftest import home_env, make_services
from tests.test_fixity import add_document

CLI = click.Group(commands=[search_cmd.check, regenerate_cmd.regenerar])


def run(svc: Services, *args: str) -> Result:
    return CliRunner().invoke(CLI, list(args), env=home_env(svc.settings.home),
                              catch_exceptions=False)


def _ingest(svc: Services, path: Path) -> str:
    """Archive ``path`` with real OCR; returns its archive number."""
    with path.open("rb") as fh:
        acc = accept_stream(svc, fh, path.name, actor="prueba", enqueue=False)
    assert process_document(svc, acc.document_id) in {"listo", "revisar"}
    return acc.archive_number


def _scan(svc: Services, tmp_path: Path, seeds: list[int], name: str) -> str:
    pages = [scans.page(seed=s, doc_type="contrato")[0] for s in seeds]
    return _ingest(svc, scans.write(pages, tmp_path / f"{name}.tif", "TIFF", dpi=(150, 150)))


def _born_digital(svc: Services, tmp_path: Path, name: str, lines: list[str]) -> str:
    return _ingest(svc, scans.born_digital_pdf(tmp_path / f"{name}.pdf", lines))


def _keys(svc: Services, number: str) -> dict[str, str]:
    """page<n>-<kind> and "pdf", "original" -> storage key."""
    with session_scope(svc.sessions) as s:
        doc = s.scalars(select(Document).where(Document.archive_number == number)).one()
        out = {"original": doc.original.storage_key}
        if doc.pdf is not None:
            out["pdf"] = doc.pdf.storage_key
        for page in doc.pages:
            for kind in ("image", "thumb", "words"):
                out[f"page{page.number}-{kind}"] = getattr(page, f"{kind}_key")
    return out


def _state(svc: Services, number: str) -> dict[str, Any]:
    """Everything regeneration must leave alone: document row, links, identifiers, page text."""
    with session_scope(svc.sessions) as s:
        doc = s.scalars(select(Document).where(Document.archive_number == number)).one()
        row = {c.name: getattr(doc, c.name) for c in Document.__table__.columns}
        return {"document": row,
                "links": sorted((l.nis, l.source.value, l.confidence, l.created_by)
                                for l in doc.supplies),
                "identifiers": sorted((i.kind, i.value) for i in doc.identifiers),
                "pages": [(p.id, p.number, p.text, p.text_source, p.ocr_confidence)
                          for p in doc.pages]}


def _fake(svc: Services, pages: int = 2) -> dict[str, str]:
    """A finished document with made-up bytes (no OCR), numbered apart from ingested ones
    (create it before ingesting: its helper numbers from 1 on its own)."""
    doc = add_document(svc, pages)
    number = doc["number"].replace("ARC-2026-", "ARC-2000-")
    with session_scope(svc.sessions) as s:
        s.execute(update(Document).where(Document.archive_number == doc["number"])
                  .values(archive_number=number))
    return doc | {"number": number}


def _flip(svc: Services, key: str) -> None:
    data = bytearray(svc.store.get_bytes(key))
    data[len(data) // 2] ^= 0xFF
    svc.store.put_bytes(key, bytes(data))


def _events(svc: Services, number: str) -> list[AuditEvent]:
    with session_scope(svc.sessions) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == ACTION,
                                                        AuditEvent.object_id == number)))
        s.expunge_all()
    return events


def _sums_match(svc: Services, number: str) -> bool:
    with session_scope(svc.sessions) as s:
        doc = s.scalars(select(Document).where(Document.archive_number == number)).one()
        for page in doc.pages:
            for kind in ("image", "thumb", "words"):
                data = svc.store.get_bytes(getattr(page, f"{kind}_key"))
                if (hashlib.sha256(data).hexdigest(), len(data)) != (
                        getattr(page, f"{kind}_sha256"), getattr(page, f"{kind}_size")):
                    return False
        pdf = svc.store.get_bytes(doc.pdf.storage_key)
        return (hashlib.sha256(pdf).hexdigest(), len(pdf)) == (doc.pdf.sha256, doc.pdf.size)


# -- the repair, end to end ---------------------------------------------------------


def test_damaged_and_missing_derivatives_are_rebuilt_and_nothing_else_changes(
        services: Services, tmp_path: Path) -> None:
    number = _scan(services, tmp_path, [11, 12], "contrato")
    other = _born_digital(services, tmp_path, "nota", ["Nota de escribania NIS 1234567"])
    with session_scope(services.sessions) as s:  # what people did to it afterwards
        doc = s.scalars(select(Document).where(Document.archive_number == number)).one()
        editing.update_document(s, doc, editing.DocumentChanges(title="Contrato de la señora"),
                                actor="ana")
        editing.link_nis(s, doc, "7654321", actor="ana")
    keys = _keys(services, number)
    before = {k: services.store.get_bytes(v) for k, v in keys.items()}
    state = _state(services, number)
    assert state["links"] and state["document"]["title"] == "Contrato de la señora"

    _flip(services, keys["page1-image"])
    services.store.delete(keys["page2-thumb"])
    services.store.put_bytes(keys["pdf"], b"%PDF-1.4 truncado")
    out = run(services, "check", "--objetos")
    assert out.exit_code == 1, out.output
    assert f"«archivo regenerar {number}» o «archivo regenerar --danados»" in out.output

    out = run(services, "regenerar", number.lower())
    assert out.exit_code == 0, out.output
    assert (f"{number}: regenerados desde el original: imagen, miniatura y palabras de las "
            "páginas 1 y 2 y el PDF buscable (la imagen de la página 1: dañada; la miniatura de "
            "la página 2: faltaba; el PDF buscable: dañado).") in out.output
    assert "Resultado: 1 documento(s) regenerado(s), 0 sin nada que regenerar, 0 con error." \
        in out.output
    assert other not in out.output

    out = run(services, "check", "--objetos")
    assert out.exit_code == 0, out.output
    assert _sums_match(services, number)
    # the same code on the same original: the same page bytes as when it was archived
    for key in ("page1-image", "page2-thumb", "page1-words", "page2-words"):
        assert services.store.get_bytes(keys[key]) == before[key], key
    assert services.store.get_bytes(keys["original"]) == before["original"]
    assert _state(services, number) == state  # text, status, title, links, updated_at...

    [event] = _events(services, number)
    assert event.actor == "cli"
    assert event.details == {
        "paginas": [{"pagina": 1, "faltaban": [], "danados": ["imagen"]},
                    {"pagina": 2, "faltaban": ["miniatura"], "danados": []}],
        "pdf": True, "pdf_estado": "dañado", "texto_distinto": []}
    assert run(services, "check", "--auditoria").exit_code == 0


def test_an_intact_document_is_left_alone_unless_asked_and_its_text_is_kept(
        services: Services, tmp_path: Path) -> None:
    number = _scan(services, tmp_path, [13], "croquis")
    result = regenerate_document(services, number, actor="ana")
    assert not result.done and result.found == {} and result.pdf_found is None
    assert result.lines() == [f"{number}: no falta ni está dañado ninguno de sus derivados; "
                              "no hay nada que regenerar."]
    assert _events(services, number) == []

    # as if the stored text came from another Tesseract (it stays, the page is named), on a
    # row from before sums were recorded (--completo records them)
    with session_scope(services.sessions) as s:
        s.execute(update(Page).values(text="Texto leído por otra versión", image_sha256=None,
                                      image_size=None, words_sha256=None, words_size=None))
    assert fixity.check_objects(services).unsummed == 2
    state = _state(services, number)
    out = run(services, "regenerar", "--completo", "--usuario", "ana", number)
    assert out.exit_code == 0, out.output
    assert (f"{number}: regenerados desde el original: imagen, miniatura y palabras de la "
            "página 1 y el PDF buscable (estaban bien: regenerados a pedido).") in out.output
    assert (f"{number}: el reconocimiento leyó ahora un texto distinto del guardado en la "
            "página 1; se conserva el texto guardado") in out.output
    assert _state(services, number) == state
    assert _sums_match(services, number)
    [event] = _events(services, number)
    assert event.actor == "ana" and event.details["texto_distinto"] == [1]
    assert event.details["paginas"] == [{"pagina": 1, "faltaban": [], "danados": []}]
    report = fixity.check_objects(services)
    assert report.ok and report.unsummed == 0 and report.derivatives_hashed == 3


def test_danados_regenerates_what_a_fresh_check_finds(services: Services,
                                                       tmp_path: Path) -> None:
    lost = _fake(services)  # its original is gone too: nothing to rebuild from
    good = _born_digital(services, tmp_path, "a", ["Acuerdo de pago NIS 1111111"])
    bad = _born_digital(services, tmp_path, "b", ["Orden de trabajo NIS 2222222"])
    services.store.delete(_keys(services, bad)["page1-words"])
    services.store.delete(lost["original"])
    services.store.delete(lost["thumb"])

    out = run(services, "regenerar", "--danados")
    assert out.exit_code == 1, out.output
    assert ("Verificación de objetos: 3 problema(s); 2 documento(s) con derivados faltantes o "
            "dañados.") in out.output
    assert "1 original(es) faltante(s) o dañado(s): no se regeneran" in out.output
    assert (f"{bad}: regenerados desde el original: imagen, miniatura y palabras de la página 1 "
            "(las palabras de la página 1: faltaban).") in out.output
    assert f"Error en {lost['number']}: Falta el original de {lost['number']}" in out.output
    assert good not in out.output
    assert "1 documento(s) regenerado(s), 0 sin nada que regenerar, 1 con error." in out.output
    with session_scope(services.sessions) as s:
        check = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "integridad.verificar")).one()
    assert check.details["problemas"] == 3
    report = fixity.check_objects(services)
    assert sorted(report.missing) == sorted([lost["original"], lost["thumb"]])


# -- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [DocumentStatus.RECIBIDO, DocumentStatus.PROCESANDO])
def test_a_document_in_process_is_refused(services: Services, status: DocumentStatus) -> None:
    doc = _fake(services)
    _flip(services, doc["image"])
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.archive_number == doc["number"])
                  .values(status=status))
    with pytest.raises(RegenerateRefused, match=f"El documento {doc['number']} todavía se está "
                                                f"procesando \\(estado: {status.label}\\)"):
        regenerate_document(services, doc["number"], actor="ana")
    out = run(services, "regenerar", doc["number"])
    assert out.exit_code == 1
    assert f"Error en {doc['number']}: El documento {doc['number']} todavía" in out.output
    assert _events(services, doc["number"]) == []


def test_a_document_taken_by_a_worker_meanwhile_is_not_recorded(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.regenerate as regen

    number = _born_digital(services, tmp_path, "reclamo", ["Reclamo NIS 5678901"])
    services.store.delete(_keys(services, number)["page1-image"])
    real = regen._rebuild_pages

    def claimed_meanwhile(*args: Any) -> Any:
        out = real(*args)
        with session_scope(services.sessions) as s:  # someone sent it back to the pipeline
            s.execute(update(Document).where(Document.archive_number == number)
                      .values(status=DocumentStatus.PROCESANDO))
        return out

    monkeypatch.setattr(regen, "_rebuild_pages", claimed_meanwhile)
    sha = "0" * 64  # a recorded sum the rebuilt image will not have
    with session_scope(services.sessions) as s:
        s.execute(update(Page).values(image_sha256=sha))
    with pytest.raises(RegenerateRefused, match="se volvió a procesar mientras se regeneraban"):
        regenerate_document(services, number, actor="ana")
    assert _events(services, number) == []
    with session_scope(services.sessions) as s:  # the rows are the worker's to write
        assert s.scalars(select(Page.image_sha256)).one() == sha


@pytest.mark.parametrize("damage", ["missing", "damaged"])
def test_a_missing_or_damaged_original_is_refused(services: Services, damage: str) -> None:
    doc = _fake(services)
    _flip(services, doc["image"])
    if damage == "missing":
        services.store.delete(doc["original"])
        expected = f"Falta el original de {doc['number']} ({doc['original']}) en el almacenamiento"
    else:
        _flip(services, doc["original"])
        expected = (f"Está dañado el original de {doc['number']} ({doc['original']}): no "
                    "coincide con su suma SHA-256 registrada")
    flipped = services.store.get_bytes(doc["image"])
    with pytest.raises(RegenerateRefused) as info:
        regenerate_document(services, doc["number"], actor="ana")
    assert str(info.value).startswith(expected)
    assert "«archivo import-bag BOLSA»" in str(info.value)
    assert services.store.get_bytes(doc["image"]) == flipped  # nothing written
    assert _events(services, doc["number"]) == []


def test_numbers_that_name_nothing_to_regenerate(services: Services) -> None:
    empty = _fake(services, pages=0)
    out = run(services, "regenerar", "ARC-1999-000001", "no-es-un-numero", empty["number"])
    assert out.exit_code == 1
    assert "Error: «no-es-un-numero» no es un número de archivo (ARC-AAAA-NNNNNN)." in out.output
    assert "Error en ARC-1999-000001: No existe el documento ARC-1999-000001." in out.output
    assert (f"Error en {empty['number']}: El documento {empty['number']} no tiene páginas "
            "(estado: Listo), así que no tiene derivados que regenerar.") in out.output
    assert "0 documento(s) regenerado(s), 0 sin nada que regenerar, 3 con error." in out.output
    out = run(services, "regenerar")
    assert out.exit_code == 2 and "«--danados»" in out.output


# -- a born-digital PDF, on both databases --------------------------------------------


def test_a_lost_pdf_and_word_boxes_of_a_text_pdf_on_both_databases(db_url: str,
                                                                   tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    initialize(svc)
    try:
        number = _born_digital(svc, tmp_path, "nota", ["Nota de escribania", "NIS 3456789"])
        keys = _keys(svc, number)
        words = svc.store.get_bytes(keys["page1-words"])
        svc.store.delete(keys["page1-words"])
        svc.store.delete(keys["pdf"])
        with session_scope(svc.sessions) as s:  # a bag restored without its PDF
            s.execute(update(Document).where(Document.archive_number == number)
                      .values(pdf_blob_id=None))
        state = _state(svc, number)
        result = regenerate_document(svc, number, actor="ana")
        assert result.pages == [1] and result.pdf and result.pdf_found == "falta"
        assert svc.store.get_bytes(keys["page1-words"]) == words  # the PDF's own text layer
        after = _state(svc, number)
        pdf_id = after["document"].pop("pdf_blob_id")
        state["document"].pop("pdf_blob_id")
        assert after == state  # updated_at included: pointing at the PDF is not an edit
        with session_scope(svc.sessions) as s:
            blob = s.get(Blob, pdf_id)
            assert blob is not None and blob.storage_key == keys["pdf"]
            assert blob.verified_at is not None
        assert _sums_match(svc, number) and fixity.check_objects(svc).ok
    finally:
        svc.dispose()


@pytest.mark.parametrize("damage", ["cortado", "mismo tamaño"])
def test_an_original_restored_from_a_bag_can_be_regenerated_from(services: Services,
                                                                 tmp_path: Path,
                                                                 damage: str) -> None:
    """What the refusal says to do works: restore the original, then regenerate.

    Also for a copy damaged in place that kept its size: the restore re-hashes it.
    """
    from archivo_cli.main import cli

    number = _born_digital(services, tmp_path, "acuerdo", ["Acuerdo de pago NIS 4567890"])
    env = home_env(services.settings.home)
    bag = tmp_path / "bolsa"
    assert CliRunner().invoke(cli, ["export", number, str(bag)], env=env).exit_code == 0
    keys = _keys(services, number)
    original = services.store.get_bytes(keys["original"])
    if damage == "cortado":
        services.store.put_bytes(keys["original"], original[:-10])  # a copy cut short
    else:
        _flip(services, keys["original"])  # a flipped byte: same size, other bytes
    _flip(services, keys["page1-thumb"])  # the bag does not put back damaged derivatives
    thumb = services.store.get_bytes(keys["page1-thumb"])
    out = run(services, "regenerar", number)
    assert out.exit_code == 1 and f"Está dañado el original de {number}" in out.output
    assert services.store.get_bytes(keys["page1-thumb"]) == thumb

    out = CliRunner().invoke(cli, ["import-bag", str(bag)], env=env)
    assert out.exit_code == 0, out.output
    assert services.store.get_bytes(keys["original"]) == original
    out = run(services, "regenerar", number)
    assert out.exit_code == 0, out.output
    assert "(la miniatura de la página 1: dañada)" in out.output
    assert run(services, "check", "--objetos").exit_code == 0
