"""The supply file (ficha del suministro): data, renumbered NIS, dispatches, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
from click.testing import CliRunner

from archive.db import read_scope, session_scope
from archive.editing import link_nis, unlink_nis
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.errors import ArchivoError
from archive.models import Blob, Document, DocumentSupply, Page, RegionalUnit
from archive.registry import import_supplies, renumber_supply
from archive.registry.supply_file import load_supply_file, summarize_dispatches
from archive.services import Services
from tests.conftest import home_env
from tests.registry_helpers import HEADER, registry_services, rows, write

_counter = iter(range(1, 10_000))


def make_document(svc: Services, links: dict[str, float] | list[str], *,
                  doc_type: DocumentType = DocumentType.OTRO, date: dt.date | None = None,
                  status: DocumentStatus = DocumentStatus.LISTO, reasons: str = "",
                  received: dt.datetime | None = None, pages: list[str] | None = None,
                  source: LinkSource = LinkSource.MANUAL, title: str = "",
                  page_keys: bool = False) -> int:
    """A document row with links (NIS -> confidence), pages and the fields the views read."""
    n = next(_counter)
    if isinstance(links, list):
        links = {nis: 1.0 for nis in links}
    with session_scope(svc.sessions) as s:
        blob = Blob(sha256=f"{n:064x}", size=10, media_type="application/pdf",
                    storage_key=f"originals/{n:064x}")
        s.add(blob)
        s.flush()
        doc = Document(archive_number=f"ARC-2026-{n:06d}", original_blob_id=blob.id,
                       doc_type=doc_type, document_date=date, status=status,
                       review_reasons=reasons, title=title or f"Documento {n}",
                       page_count=len(pages or []), original_filename=f"escaneo{n}.pdf",
                       received_by="ana", received_at=received or dt.datetime(
                           2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=n))
        s.add(doc)
        s.flush()
        for nis, conf in links.items():
            s.add(DocumentSupply(document_id=doc.id, nis=nis, source=source, confidence=conf,
                                 created_by="ocr" if source is LinkSource.OCR else "ana"))
        for i, text in enumerate(pages or [], start=1):
            key = f"pages/{n:064x}/{i:04d}" if page_keys else None
            s.add(Page(document_id=doc.id, number=i, text=text, width=1000, height=1400,
                       image_key=f"{key}-web.jpg" if key else None,
                       thumb_key=f"{key}-thumb.jpg" if key else None,
                       words_key=f"{key}-words.json.gz" if key else None))
        return doc.id


@pytest.fixture
def svc(tmp_path: Path, db_url: str) -> Iterator[Services]:
    s = registry_services(tmp_path, db_url)
    import_supplies(s, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    yield s
    s.dispose()


def _link(svc: Services, doc_id: int, nis: str, actor: str = "ana") -> None:
    with session_scope(svc.sessions) as s:
        link_nis(s, s.get(Document, doc_id), nis, actor=actor)


def test_file_with_registry_data_groups_documents_by_type_and_date(svc: Services) -> None:
    late = make_document(svc, ["1000001"], doc_type=DocumentType.CONTRATO, date=dt.date(2024, 5, 2),
                         pages=["a", "b", "c"])
    early = make_document(svc, ["1000001"], doc_type=DocumentType.CONTRATO, date=dt.date(2019, 3, 1))
    undated = make_document(svc, ["1000001"], doc_type=DocumentType.CONTRATO)
    claim = make_document(svc, {"1000001": 0.57}, doc_type=DocumentType.RECLAMO_ELECTRODOMESTICO,
                          status=DocumentStatus.REVISAR, source=LinkSource.OCR)
    other = make_document(svc, [])
    _link(svc, other, "1000001", actor="beto")

    with read_scope(svc.sessions) as s:
        file = load_supply_file(s, "1.000.001")
    assert file is not None and file.nis == "1000001" and file.replaced_kind is None
    assert file.registry is not None
    assert file.registry.holder_name == "Titular 1" and file.registry.holder_document == "3000001"
    assert file.registry.regional_unit_code == "SUR" and file.registry.tariff == "T1"
    assert file.registry.status == "activo" and file.registry.address.startswith("Calle 1")
    assert [g.doc_type for g in file.groups] == ["contrato", "reclamo_electrodomestico", "otro"]
    assert [d.id for d in file.groups[0].documents] == [early, late, undated]
    assert file.groups[0].documents[1].page_count == 3
    reclamo = file.groups[1].documents[0]
    assert (reclamo.id, reclamo.link_source, reclamo.link_confidence, reclamo.status) == (
        claim, "ocr", 0.57, "revisar")
    assert [h.action for h in file.history] == ["documento.vincular"]
    assert file.history[0].actor == "beto" and "ARC-2026" in file.history[0].subject

    data = json.loads(json.dumps(file.as_dict()))
    assert data["nis"] == "1000001" and data["en_registro"] is True
    assert data["registro"]["titular"] == "Titular 1"
    assert data["registro"]["unidad_regional"]["codigo"] == "SUR"
    assert data["total_documentos"] == 5
    assert data["documentos_por_tipo"][0]["cantidad"] == 3
    assert data["documentos_por_tipo"][0]["documentos"][0]["fecha"] == "2019-03-01"
    assert data["historial"][0]["accion_nombre"] == "Documento vinculado"
    assert "despachos" not in data  # only present once the caller attached them


def test_unregistered_nis_with_documents_still_has_a_file(svc: Services) -> None:
    doc = make_document(svc, [])
    _link(svc, doc, "5550001")
    with read_scope(svc.sessions) as s:
        file = load_supply_file(s, "5550001")
        nothing = load_supply_file(s, "5550002")
        with pytest.raises(ArchivoError, match="no es un NIS válido"):
            load_supply_file(s, "12ab")
    assert nothing is None
    assert file is not None and file.registry is None and not file.in_registry
    assert file.document_ids == [doc]
    data = file.as_dict()
    assert data["registro"] is None and data["en_registro"] is False
    # once its only document is unlinked, nothing is known about the number any more
    with session_scope(svc.sessions) as s:
        unlink_nis(s, s.get(Document, doc), "5550001", actor="carla")
    _link(svc, doc, "1000000")
    with read_scope(svc.sessions) as s:
        assert load_supply_file(s, "5550001") is None  # nothing left to show
        current = load_supply_file(s, "1000000")
    assert current is not None and current.document_ids == [doc]


def test_renumbered_nis_shows_the_new_file_and_says_so(svc: Services) -> None:
    a = make_document(svc, ["1000002"], doc_type=DocumentType.CONTRATO)
    _link(svc, a, "1000003")
    renumber_supply(svc, "1000002", "7000002", actor="ana")
    with read_scope(svc.sessions) as s:
        old = load_supply_file(s, "1000002")
        new = load_supply_file(s, "7000002")
    assert old is not None and new is not None
    assert (old.nis, old.requested_nis, old.replaced_kind) == ("7000002", "1000002", "renumerado")
    assert old.notice == ("El NIS 1000002 fue renumerado en 7000002; se muestra la ficha del "
                          "suministro 7000002.")
    assert old.registry is not None and old.registry.holder_name == "Titular 2"
    assert old.document_ids == [a] == new.document_ids
    assert [al.old_nis for al in new.aliases] == ["1000002"] and new.aliases[0].kind == "renumerado"
    assert new.replaced_kind is None
    actions = [h.action for h in new.history]
    assert actions[:2] == ["vinculo_movido", "suministro_renumerado"]
    moved = new.history[0]
    assert moved.subject.startswith("ARC-2026-") and "1000002" in moved.description
    assert old.as_dict()["reemplazo"]["tipo"] == "renumerado"
    assert new.as_dict()["nis_anteriores"][0]["nis_anterior"] == "1000002"
    # the other supply's history does not show this renumbering
    with read_scope(svc.sessions) as s:
        third = load_supply_file(s, "1000003")
    assert third is not None
    assert all(h.action == "documento.vincular" for h in third.history)


def test_registry_update_is_in_the_history(svc: Services, tmp_path: Path) -> None:
    changed = rows(4)
    changed[0] = changed[0].replace("Titular 0", "Titular Nuevo")
    import_supplies(svc, write(tmp_path / "q.csv", [HEADER, *changed]), actor="importador")
    with read_scope(svc.sessions) as s:
        file = load_supply_file(s, "1000000")
    assert file is not None and file.registry is not None
    assert file.registry.holder_name == "Titular Nuevo"
    assert file.history[0].action == "suministro_actualizado"
    assert "Titular 0" in file.history[0].description and file.history[0].actor == "importador"


def test_summarize_dispatches_keeps_those_carrying_the_supply_documents() -> None:
    def item(doc: int | None, number: str) -> SimpleNamespace:
        return SimpleNamespace(document_id=doc, archive_number=number)

    state = SimpleNamespace(value="enviado", label="Enviado")
    t0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    carried = SimpleNamespace(id=2, number="ENV-2026-000002", state=state, destination="Regional Sur",
                              regional_unit_code="SUR", created_at=t0, sent_at=t0,
                              received_at=None, is_return=False,
                              items=[item(7, "ARC-2026-000007"), item(9, "ARC-2026-000009"),
                                     item(None, "")])
    older = SimpleNamespace(**{**carried.__dict__, "id": 1, "number": "ENV-2026-000001",
                               "created_at": t0 - dt.timedelta(days=3),
                               "items": [item(7, "ARC-2026-000007")]})
    unrelated = SimpleNamespace(**{**carried.__dict__, "id": 3, "items": [item(8, "X")]})
    out = summarize_dispatches([carried, unrelated, older], [7])
    assert [s.number for s in out] == ["ENV-2026-000001", "ENV-2026-000002"]
    assert out[1].archive_numbers == ("ARC-2026-000007",)
    assert out[1].as_dict()["estado_nombre"] == "Enviado"


# --------------------------------------------------------------------------- CLI


def make_dispatch(svc: Services, doc_id: int) -> str:
    """A sent dispatch carrying ``doc_id`` (rows written directly: the CLI only reads them)."""
    from dispatch.enums import DispatchState, ItemKind
    from dispatch.models import Dispatch, DispatchItem

    with session_scope(svc.sessions) as s:
        unit = s.query(RegionalUnit).filter_by(code="SUR").one()
        d = Dispatch(number="ENV-2026-000123", state=DispatchState.ENVIADO, origin="Archivo",
                     regional_unit_id=unit.id, created_by="despacho",
                     sent_at=dt.datetime(2026, 3, 2, 13, tzinfo=dt.timezone.utc))
        s.add(d)
        s.flush()
        s.add(DispatchItem(dispatch_id=d.id, kind=ItemKind.DOCUMENTO, document_id=doc_id,
                           sheets=2, added_by="despacho"))
        return d.number


def test_cli_supply_text_json_and_unknown(tmp_path: Path) -> None:
    from archivo_cli.main import cli

    svc = registry_services(tmp_path, f"sqlite:///{tmp_path}/var/archivo.db")
    import_supplies(svc, write(tmp_path / "p.csv", [HEADER, *rows(3)]), actor="t")
    doc = make_document(svc, ["1000001"], doc_type=DocumentType.CONTRATO, date=dt.date(2020, 2, 3),
                        pages=["x", "y"])
    unregistered = make_document(svc, ["5550009"])
    number = make_dispatch(svc, doc)
    renumber_supply(svc, "1000002", "7000002", actor="ana")
    env = home_env(tmp_path / "var")

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    out = run("supply", "1.000.001")
    assert out.exit_code == 0, out.output
    text = out.output
    assert "Suministro NIS 1000001" in text and "Titular:" in text and "Titular 1" in text
    assert "Regional Sur (SUR)" in text
    assert "Contrato de suministro (1)" in text and "03/02/2020" in text and "2 pág." in text
    assert f"Despachos (1):\n  {number}" in text and "ARC-2026-" in text

    as_json = run("supply", "1000001", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["registro"]["titular"] == "Titular 1"
    assert data["documentos_por_tipo"][0]["documentos"][0]["id"] == doc
    assert [d["numero"] for d in data["despachos"]] == [number]
    assert json.loads(run("suministro", "--json", "1000001").output)["nis"] == "1000001"
    assert json.loads(run("supply", "ver", "1000001", "--json").output)["nis"] == "1000001"

    bare = run("supply", "5550009")
    assert bare.exit_code == 0 and "No figura en el padrón" in bare.output
    assert "ninguno" in bare.output  # no dispatches
    assert unregistered

    old = run("supply", "1000002")
    assert old.exit_code == 0 and "fue renumerado en 7000002" in old.output

    missing = run("supply", "4444444")
    assert missing.exit_code == 1
    assert "No hay datos del NIS 4444444" in missing.output
    bad = run("supply", "12x")
    assert bad.exit_code == 1 and "no es un NIS válido" in bad.output
    # the renumber/merge subcommands still live in the same group
    moved = run("supply", "renumber", "1000000", "7000000")
    assert moved.exit_code == 0 and "renumerado en 7000000" in moved.output
    svc.dispose()
