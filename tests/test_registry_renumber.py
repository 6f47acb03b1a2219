"""Renumbering and merging supplies; the editable list of regional units."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import verify_chain
from archive.db import session_scope
from archive.errors import ArchivoError
from archive.models import AuditEvent, Document, DocumentSupply, Supply
from archive.registry import (
    add_regional_unit,
    import_supplies,
    list_regional_units,
    merge_supplies,
    renumber_supply,
    resolve_alias,
    update_regional_unit,
)
from tests.registry_helpers import HEADER, add_document, audit_count, registry_services, rows, supplies, write


@pytest.fixture
def svc(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    s = registry_services(tmp_path, db_url)
    import_supplies(s, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    yield s
    s.dispose()


def links(svc) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[int, list[str]] = {}
    with session_scope(svc.sessions) as s:
        for d, n in s.execute(select(DocumentSupply.document_id, DocumentSupply.nis)
                              .order_by(DocumentSupply.nis)):
            out.setdefault(d, []).append(n)
    return out


def test_renumber_moves_links_keeps_alias(svc) -> None:
    a = add_document(svc, 1, ["1000000"])
    b = add_document(svc, 2, ["1000000", "1000001"])
    before = supplies(svc)["1000000"]
    report = renumber_supply(svc, "1.000.000", "7000000", actor="ana")
    assert report.documents == sorted([a, b])
    assert links(svc) == {a: ["7000000"], b: ["1000001", "7000000"]}
    data = supplies(svc)
    assert "1000000" not in data and data["7000000"] == before
    with session_scope(svc.sessions) as s:
        assert resolve_alias(s, "1000000") == "7000000"
        assert all(s.get(Document, d).index_due for d in (a, b))
        moved = s.scalars(select(AuditEvent).where(AuditEvent.action == "vinculo_movido")).all()
        assert sorted(int(e.object_id) for e in moved) == sorted([a, b])
        assert moved[0].actor == "ana" and moved[0].details["hacia"] == "7000000"
        assert verify_chain(s.scalars(select(AuditEvent).order_by(AuditEvent.id))) == []
    assert audit_count(svc, "suministro_renumerado") == 1

    # Renumbered again: the first alias follows, no chain.
    renumber_supply(svc, "7000000", "8000000", actor="ana")
    with session_scope(svc.sessions) as s:
        assert resolve_alias(s, "1000000") == "8000000" and resolve_alias(s, "7000000") == "8000000"
    with pytest.raises(ArchivoError, match="ya fue reemplazado por 8000000"):
        renumber_supply(svc, "1000000", "9000000", actor="ana")


def test_renumber_refuses_existing_target_and_unknown_source(svc) -> None:
    with pytest.raises(ArchivoError, match="ya existe en el registro"):
        renumber_supply(svc, "1000000", "1000001", actor="t")
    with pytest.raises(ArchivoError, match="No hay suministro ni documentos"):
        renumber_supply(svc, "5555555", "6666666", actor="t")
    with pytest.raises(ArchivoError, match="no es un NIS válido"):
        renumber_supply(svc, "12", "6666666", actor="t")


def test_unregistered_nis_with_documents_can_be_renumbered(svc) -> None:
    d = add_document(svc, 3, ["5555555"])
    renumber_supply(svc, "5555555", "6666666", actor="t")
    assert links(svc) == {d: ["6666666"]}


def test_merge_moves_links_and_drops_duplicates(svc, tmp_path: Path) -> None:
    a = add_document(svc, 1, ["1000002"])
    b = add_document(svc, 2, ["1000002", "1000003"])
    report = merge_supplies(svc, "1000002", "1000003", actor="bea")
    assert report.duplicates_dropped == 1
    assert links(svc) == {a: ["1000003"], b: ["1000003"]}
    assert "1000002" not in supplies(svc)
    assert audit_count(svc, "suministros_fusionados") == 1
    with session_scope(svc.sessions) as s:
        assert resolve_alias(s, "1000002") == "1000003"
    with pytest.raises(ArchivoError, match="no está en el registro"):
        merge_supplies(svc, "1000000", "4444444", actor="t")
    # An old export that still carries the merged NIS is rejected for that row.
    report = import_supplies(svc, write(tmp_path / "viejo.csv", [HEADER, *rows(4)]), actor="t")
    assert report.rejected == 1 and "reemplazado por 1000003" in report.rejections[0].reason


def test_regional_units_editable_and_audited(svc) -> None:
    add_regional_unit(svc, "itp", "Regional Itapúa", city="Encarnación", contact="071 200 000", actor="ana")
    assert "ITP" in [u.code for u in list_regional_units(svc)]
    with pytest.raises(ArchivoError, match="Ya existe"):
        add_regional_unit(svc, "ITP", "Otra", actor="ana")
    with pytest.raises(ArchivoError, match="no es un código"):
        add_regional_unit(svc, "Ñ", "Otra", actor="ana")

    doc = add_document(svc, 9, ["1000001"])  # 1000001 belongs to SUR
    unit = update_regional_unit(svc, "sur", new_code="SUR1", address="Ruta 1 km 2", actor="ana")
    assert (unit.code, unit.address, unit.name) == ("SUR1", "Ruta 1 km 2", "Regional Sur")
    with session_scope(svc.sessions) as s:
        assert s.get(Document, doc).index_due
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "unidad_regional_modificada")).one()
        assert ev.details["cambios"]["código"] == {"antes": "SUR", "despues": "SUR1"}
        assert s.get(Supply, "1000001").regional_unit.code == "SUR1"
    assert audit_count(svc, "unidad_regional_creada") == 1
    with pytest.raises(ArchivoError, match="No existe la unidad regional"):
        update_regional_unit(svc, "XXX", name="y", actor="ana")


def test_the_old_number_still_finds_the_documents(svc) -> None:
    from search.query import search

    from archive.enums import DocumentStatus

    a = add_document(svc, 1, ["1000000"])
    with session_scope(svc.sessions) as s:
        s.get(Document, a).status = DocumentStatus.LISTO  # searchable documents only
    renumber_supply(svc, "1000000", "7000000", actor="ana")
    for query in ("1000000", "7000000"):  # exact numbers are answered from the database
        found = search(svc, query)
        assert found.mode == "exacto" and [h.document_id for h in found.hits] == [a], query
