"""Location tree, codes, folders, moves with their history, where documents' paper is kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from archive import physical as ph
from archive.audit import verify_chain
from archive.db import read_scope, session_scope
from archive.errors import ArchivoError
from archive.models import AuditEvent
from archive.services import Services
from dispatch.refs import label_code
from tests.registry_helpers import add_document

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 10:00 in Asunción


def build_tree(svc: Services) -> dict[str, str]:
    """Depósito Central > Sala 1 > Estante A > two boxes; returns codes by short name."""
    with session_scope(svc.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana", now=T0)
        sala = ph.add_location(db, parent=dep.code, name="Sala 1", actor="ana")
        est = ph.add_location(db, parent=sala.code, name="Estante A", actor="ana")
        est2 = ph.add_location(db, parent=sala.code, name="Estante B", actor="ana")
        c1 = ph.add_location(db, parent=est.code, name="Contratos 2016", actor="ana")
        c2 = ph.add_location(db, parent=est.code, actor="ana")
        return {"dep": dep.code, "sala": sala.code, "est": est.code, "est2": est2.code,
                "c1": c1.code, "c2": c2.code}


def test_levels_are_seeded_and_codes_follow_them(services: Services) -> None:
    codes = build_tree(services)
    assert codes == {"dep": "DEP-000001", "sala": "SALA-000001", "est": "EST-000001",
                     "est2": "EST-000002", "c1": "CAJA-000001", "c2": "CAJA-000002"}
    with read_scope(services.sessions) as db:
        assert [(lv.name, lv.code_prefix) for lv in ph.levels(db)] == [
            ("Depósito", "DEP"), ("Sala", "SALA"), ("Estante", "EST"), ("Caja", "CAJA")]
        roots = ph.tree(db)
        assert [r.code for r in roots] == ["DEP-000001"]
        shelf = roots[0].children[0].children[0]
        assert [c.code for c in shelf.children] == ["CAJA-000001", "CAJA-000002"]
        box = ph.get_location(db, "caja-000001")
        assert ph.path_text(box) == ("Depósito Central (DEP-000001) › Sala 1 (SALA-000001) › "
                                     "Estante A (EST-000001) › Caja Contratos 2016 (CAJA-000001)")


def test_a_box_cannot_hold_another_level(services: Services) -> None:
    codes = build_tree(services)
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match="último nivel"):
            ph.add_location(db, parent=codes["c1"], actor="ana")


def test_levels_are_configurable(services: Services) -> None:
    with session_scope(services.sessions) as db:
        ph.set_level(db, 3, name="Anaquel", code_prefix="ANQ", actor="ana")
        ph.set_level(db, 5, name="Bandeja", actor="ana")
        with pytest.raises(ArchivoError, match="Solo se puede agregar el nivel 6"):
            ph.set_level(db, 9, name="X", actor="ana")
    codes = build_tree(services)
    assert codes["est"] == "ANQ-000001"
    with session_scope(services.sessions) as db:
        tray = ph.add_location(db, parent=codes["c1"], actor="ana")
        assert tray.code == "BANDEJA-000001"
        assert ph.node_label(tray).startswith("Bandeja ")


def test_codes_are_unique_across_boxes_and_folders(services: Services) -> None:
    codes = build_tree(services)
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match="ya está en uso"):
            ph.create_folder(db, code=codes["c1"].lower(), actor="ana")
        # A hand-made code that a sequence would give later is skipped, not duplicated.
        ph.add_location(db, parent=codes["est"], code="caja 000003", actor="ana")
        nxt = ph.add_location(db, parent=codes["est"], actor="ana")
        assert nxt.code == "CAJA-000004"
        with pytest.raises(ArchivoError, match="al menos una letra"):
            ph.create_folder(db, code="4992383", actor="ana")


@pytest.mark.parametrize("raw", ["caja 42", " carp-000001 ", "Est.3/B", "a"])
def test_code_rule_matches_the_dispatch_label_rule(raw: str) -> None:
    assert ph.normalize_code(raw) == label_code(raw)


def test_folder_moves_are_events_with_history(services: Services) -> None:
    codes = build_tree(services)
    with session_scope(services.sessions) as db:
        f = ph.create_folder(db, nis="4.992.383", description="Contrato y croquis",
                             location=codes["c1"], actor="ana", now=T0)
        assert (f.code, f.nis) == ("CARP-000001", "4992383")
    with session_scope(services.sessions) as db:
        ph.move_folder(db, "carp-000001", to=codes["c2"], actor="beto", note="reordenar",
                       away=ph.NO_HOLDS, now=T0 + dt.timedelta(days=1))
        with pytest.raises(ArchivoError, match="ya está en"):
            ph.move_folder(db, "CARP-000001", to=codes["c2"], actor="beto", away=ph.NO_HOLDS)
        with pytest.raises(ph.NotFound):
            ph.move_folder(db, "CARP-000001", to="CAJA-999", actor="beto", away=ph.NO_HOLDS)
    with read_scope(services.sessions) as db:
        detail = ph.folder_detail(db, "CARP-000001")
        assert detail.location_code == "CAJA-000002"
        assert [(m.actor, m.from_text.split(" › ")[-1], m.to_text.split(" › ")[-1], m.note)
                for m in detail.moves] == [
            ("beto", "Caja Contratos 2016 (CAJA-000001)", "Caja CAJA-000002", "reordenar"),
            ("ana", "—", "Caja Contratos 2016 (CAJA-000001)", "alta de la carpeta")]
        assert [c.code for c in detail.crumbs] == [codes["dep"], codes["sala"], codes["est"],
                                                   "CAJA-000002"]
        box = ph.location_detail(db, codes["c2"])
        assert [f.code for f in box.folders] == ["CARP-000001"]
        assert ph.location_detail(db, codes["c1"]).folders == []
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions.count("fisico.carpeta_mover") == 1
        assert "fisico.carpeta_crear" in actions and "fisico.ubicacion_crear" in actions
        assert verify_chain(db.scalars(select(AuditEvent).order_by(AuditEvent.id))) == []


def test_a_box_moves_to_another_shelf_only(services: Services) -> None:
    codes = build_tree(services)
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match="solo puede ir dentro de un\\(a\\) estante"):
            ph.move_location(db, codes["c1"], to=codes["sala"], actor="ana", away=ph.NO_HOLDS)
        ph.move_location(db, codes["c1"], to=codes["est2"], actor="ana", note="mudanza",
                         away=ph.NO_HOLDS)
    with read_scope(services.sessions) as db:
        box = ph.location_detail(db, codes["c1"])
        assert box.crumbs[-2].code == codes["est2"]
        assert [(m.to_text.split(" › ")[-1], m.note) for m in box.moves] == [
            ("Estante B (EST-000002)", "mudanza")]
        assert [c.code for c in box.parent_choices] == [codes["est"]]


def test_where_each_document_paper_is_kept(services: Services) -> None:
    codes = build_tree(services)
    doc_a = add_document(services, 1, ["4992383"])
    add_document(services, 2, [])
    with session_scope(services.sessions) as db:
        ph.create_folder(db, nis="4992383", location=codes["c1"], actor="ana")
        ph.place_document(db, "arc-2026-1", folder="CARP-000001", actor="ana",
                          away=ph.NO_HOLDS)
        ph.place_document(db, "ARC-2026-000002", location=codes["c2"], actor="ana",
                          away=ph.NO_HOLDS)
        with pytest.raises(ArchivoError, match="solo una"):
            ph.place_document(db, "ARC-2026-000002", actor="ana",
                              away=ph.NO_HOLDS)
        with pytest.raises(ph.NotFound, match="ARC-2026-000009"):
            ph.place_document(db, "ARC-2026-000009", folder="CARP-000001", actor="ana",
                              away=ph.NO_HOLDS)
    with read_scope(services.sessions) as db:
        place = ph.document_place(db, doc_a)
        assert place is not None and ph.describe_place(place).startswith("carpeta CARP-000001 (")
        assert [d.archive_number for d in ph.folder_detail(db, "CARP-000001").documents] == [
            "ARC-2026-000001"]
        assert [d.archive_number for d in ph.location_detail(db, codes["c2"]).documents] == [
            "ARC-2026-000002"]
        history = db.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "documento", AuditEvent.object_id == "ARC-2026-000001")).all()
        assert [e.action for e in history] == ["fisico.documento_ubicar"]
    with session_scope(services.sessions) as db:  # moved to the box: the folder no longer holds it
        ph.place_document(db, "ARC-2026-000001", location=codes["c2"], actor="ana",
                          away=ph.NO_HOLDS)
        assert ph.remove_document_place(db, "ARC-2026-000002", actor="ana") is True
    with read_scope(services.sessions) as db:
        assert ph.folder_detail(db, "CARP-000001").documents == []
        assert [d.archive_number for d in ph.location_detail(db, codes["c2"]).documents] == [
            "ARC-2026-000001"]


def test_resolve_code_names_one_thing(services: Services) -> None:
    codes = build_tree(services)
    with session_scope(services.sessions) as db:
        ph.create_folder(db, actor="ana")
    with read_scope(services.sessions) as db:
        assert ph.resolve_code(db, " carp-000001") == ("carpeta", "CARP-000001")
        assert ph.resolve_code(db, codes["c2"].lower()) == ("ubicacion", "CAJA-000002")
        assert ph.resolve_code(db, "CAJA-000777") is None
        assert ph.resolve_code(db, "juan pérez") is None
        assert [f.code for f in ph.unplaced_folders(db)] == ["CARP-000001"]
