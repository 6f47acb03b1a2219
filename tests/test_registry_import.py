"""Importing the supply registry: formats, mapping, bad rows, re-import, crash mid-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import verify_chain
from archive.db import session_scope
from archive.enums import SupplyStatus
from archive.errors import ArchivoError
from archive.models import AuditEvent, Document, RegionalUnit
from archive.registry import import_supplies, load_mapping
from archive.registry.mapping import fold
from archive.registry.models import SupplyImport
from tests.registry_helpers import HEADER, add_document, audit_count, registry_services, rows, supplies, write


@pytest.fixture
def svc(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    s = registry_services(tmp_path, db_url)
    yield s
    s.dispose()


def test_import_then_reimport_is_idempotent(svc, tmp_path: Path) -> None:
    path = write(tmp_path / "padron.csv", [HEADER, *rows(12)])
    report = import_supplies(svc, path, actor="ana", batch_size=5)
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (12, 0, 0, 0)
    assert report.columns["titular"] == "TITULAR" and report.delimiter == ";"
    data = supplies(svc)
    assert data["1000000"][0] == "Titular 0"
    assert data["1000002"][2] == "Calle 2 c/ Ñandutí"
    assert data["1000009"][6] is SupplyStatus.CANCELADO
    with session_scope(svc.sessions) as s:
        units = dict(s.execute(select(RegionalUnit.code, RegionalUnit.id)).all())
    assert [data[f"100000{i}"][4] for i in range(4)] == [units["CEN"], units["SUR"], units["EST"], units["NOR"]]

    again = import_supplies(svc, path, actor="ana", batch_size=5)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 12, 0)
    assert audit_count(svc, "suministro_actualizado") == 0
    assert supplies(svc) == data


def test_changed_holder_is_updated_and_audited(svc, tmp_path: Path) -> None:
    import_supplies(svc, write(tmp_path / "a.csv", [HEADER, *rows(6)]), actor="ana")
    doc = add_document(svc, 1, ["1000001"])
    changed = rows(6)
    changed[1] = changed[1].replace("Titular 1", "María Benítez").replace(";SUR;", ";CEN;")
    changed[4] = changed[4].replace("Calle 4", "Avda. Mcal. López 4")
    report = import_supplies(svc, write(tmp_path / "b.csv", [HEADER, *changed]), actor="bea")
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 4)
    assert supplies(svc)["1000001"][0] == "María Benítez"
    with session_scope(svc.sessions) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "suministro_actualizado")
                           .order_by(AuditEvent.object_id)).all()
        assert [e.object_id for e in events] == ["1000001", "1000004"]
        assert events[0].actor == "bea"
        assert events[0].details["cambios"]["titular"] == {"antes": "Titular 1", "despues": "María Benítez"}
        assert events[0].details["cambios"]["regional"] == {"antes": "SUR", "despues": "CEN"}
        assert set(events[1].details["cambios"]) == {"dirección"}
        assert s.get(Document, doc).index_due  # its regional unit changed
        assert verify_chain(s.scalars(select(AuditEvent).order_by(AuditEvent.id))) == []


@pytest.mark.parametrize("encoding,sep", [("utf-8-sig", ";"), ("latin-1", ";"), ("cp1252", "\t"),
                                          ("utf-8", "|"), ("utf-8", ",")])
def test_encodings_and_delimiters(svc, tmp_path: Path, encoding: str, sep: str) -> None:
    lines = ["Nis;Titular;Dirección;Regional",
             "1234567;Peña Ñúñez, José;Mburucuyá 123;Regional Sur",
             "7654321;“Comercial” Ortiz;Itá;cen"]
    if sep == ",":
        lines = [line.replace(", José", " José") for line in lines]
    if encoding == "latin-1":
        lines[2] = lines[2].replace("“Comercial”", "Comercial")
    report = import_supplies(svc, write(tmp_path / "x.txt", lines, encoding, sep), actor="t")
    assert report.delimiter == sep and report.rejected == 0
    assert report.encoding == ("utf-8-sig" if encoding.startswith("utf") else "cp1252")
    data = supplies(svc)
    assert data["1234567"][0] == "Peña Ñúñez" + (" José" if sep == "," else ", José")
    assert data["1234567"][2] == "Mburucuyá 123"
    assert data["7654321"][0].endswith("Ortiz")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_encoding_decided_on_the_whole_file(svc, tmp_path: Path, monkeypatch, encoding: str) -> None:
    """An accent only on the last line, many read chunks later, is still read right."""
    from archive.registry import source

    monkeypatch.setattr(source, "CHUNK", 1001)  # odd size: UTF-8 sequences split across chunks
    lines = [HEADER, *[f"{1000000 + i};Juan Perez {i};;Calle {i};;;;" for i in range(3000)],
             *[f"{2000000 + i};Ñandú Ríos;;;;;;" for i in range(400)]]
    path = write(tmp_path / "late.csv", lines, encoding)
    report = import_supplies(svc, path, actor="t")
    assert report.encoding == ("utf-8-sig" if encoding == "utf-8" else "cp1252")
    assert supplies(svc)["2000399"][0] == "Ñandú Ríos"


def test_rejected_rows_have_line_and_reason(svc, tmp_path: Path) -> None:
    lines = [HEADER, *rows(3),
             "12AB;Malo;;;;;;",               # line 5
             "1000000;Repetido;;;;;;",        # 6
             "2000001;Otro;;;;ZZZ;;",         # 7
             "2000002;Otro;;;;;;SUSPENDIDO",  # 8
             "2000003;Corto",                 # 9
             "",
             "2000004;Bien;;;;;;"]            # 11
    rejected = []
    report = import_supplies(svc, write(tmp_path / "r.csv", lines), actor="t", on_reject=rejected.append)
    assert (report.inserted, report.rejected) == (4, 5)
    assert rejected == report.rejections
    by_line = {r.line: r.reason for r in report.rejections}
    assert sorted(by_line) == [5, 6, 7, 8, 9]
    assert by_line[5].startswith("NIS inválido")
    assert "repetido" in by_line[6]
    assert "unidad regional desconocida «ZZZ»" in by_line[7] and "SUR" in by_line[7]
    assert "estado desconocido «SUSPENDIDO»" in by_line[8]
    assert "columnas" in by_line[9]
    assert "2000004" in supplies(svc)


def test_missing_required_column_rejects_the_file(svc, tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", ["NUMERO;TITULAR", "1234567;X"])
    with pytest.raises(ArchivoError, match="Falta una columna obligatoria: NIS"):
        import_supplies(svc, path, actor="t")
    assert supplies(svc) == {}
    with session_scope(svc.sessions) as s:
        assert s.scalar(select(SupplyImport.sha256)) is None


def test_mapping_file(svc, tmp_path: Path) -> None:
    mapping = tmp_path / "mapeo.toml"
    mapping.write_text('[columnas]\nnis = ["Nro Suministro"]\ntitular = "Razón Social"\n'
                       'regional = ["UNIDAD"]\n[estados]\ncancelado = ["RETIRADO"]\n', encoding="utf-8")
    lines = ["NRO. SUMINISTRO;RAZON SOCIAL;UNIDAD;ESTADO", "1234567;ANDE SA;SUR;RETIRADO"]
    report = import_supplies(svc, write(tmp_path / "m.csv", lines), mapping=mapping, actor="t")
    assert report.rejected == 0 and report.columns["nis"] == "NRO. SUMINISTRO"
    assert supplies(svc)["1234567"][0] == "ANDE SA"
    assert supplies(svc)["1234567"][6] is SupplyStatus.CANCELADO
    bad = tmp_path / "malo.toml"
    bad.write_text('[columnas]\ncolor = ["X"]\n', encoding="utf-8")
    with pytest.raises(ArchivoError, match="no es un campo válido"):
        load_mapping(bad)


def test_missing_optional_columns_keep_existing_values(svc, tmp_path: Path) -> None:
    import_supplies(svc, write(tmp_path / "a.csv", [HEADER, *rows(2)]), actor="t")
    report = import_supplies(svc, write(tmp_path / "b.csv", ["NIS;NOMBRE", "1000000;Titular 0",
                                                             "1000001;Nuevo"]), actor="t")
    assert (report.updated, report.unchanged) == (1, 1)
    assert supplies(svc)["1000001"][:4] == ("Nuevo", "3000001", "Calle 1 c/ Ñandutí", "Asunción")


class Crash(Exception):
    pass


def test_resume_after_crash(svc, tmp_path: Path) -> None:
    path = write(tmp_path / "grande.csv", [HEADER, *rows(25), "99;Malo;;;;;;", *rows(5, start=2000000)])
    calls = []

    def crash_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise Crash

    with pytest.raises(Crash):
        import_supplies(svc, path, actor="t", batch_size=10, progress=crash_after_two)
    assert len(supplies(svc)) == 20  # two whole batches, nothing of the third
    with session_scope(svc.sessions) as s:
        assert s.get(SupplyImport, _sha(path)).rows_done == 20

    report = import_supplies(svc, path, actor="t", batch_size=10)
    assert report.resumed_after == 20
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (30, 0, 0, 1)
    assert report.rejections[0].line == 27

    clean_dir = tmp_path / "limpio"
    clean = registry_services(clean_dir, f"sqlite:///{clean_dir}/c.db")
    try:
        import_supplies(clean, path, actor="t")
        assert supplies(clean).keys() == supplies(svc).keys()
        assert len(supplies(svc)) == 30
    finally:
        clean.dispose()

    rerun = import_supplies(svc, path, actor="t", batch_size=10)  # finished: runs again, all unchanged
    assert (rerun.resumed_after, rerun.inserted, rerun.unchanged, rerun.rejected) == (0, 0, 30, 1)


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fold() -> None:
    assert fold(" Dirección ") == "direccion" and fold("NRO. NIS") == "nro_nis"
