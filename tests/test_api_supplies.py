"""``/api/v1/supplies`` and ``/api/v1/regional-units``: supply file, import, unit list."""

from __future__ import annotations

import io
from typing import Iterator

import pytest

from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import HEADER, add_document, audit_count, rows, supplies
from tests.search_support import add_supply


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path_factory.mktemp("api_suministros"), immediate=False)
    yield archive
    archive.services.dispose()


def _get(arc: ApiArchive, url: str, role: str = "consulta"):  # type: ignore[no-untyped-def]
    return arc.client().get(url, headers=arc.headers(role))


def _import(arc: ApiArchive, lines: list[str], role: str = "admin", *, name: str = "padron.csv",
            **extra: object):  # type: ignore[no-untyped-def]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return arc.client().post(f"{API}/supplies/import", headers=arc.headers(role),
                             content_type="multipart/form-data",
                             data={"archivo": (io.BytesIO(data), name), **extra})


# ----------------------------------------------------------------------------- supply file

def test_supply_file_has_registry_data_and_documents(arc: ApiArchive) -> None:
    add_supply(arc.services, "4992383", "SUR")
    doc_id = add_document(arc.services, 700001, ["4992383"])
    res = _get(arc, f"{API}/supplies/4.992.383")
    assert res.status_code == 200, res.get_data(as_text=True)
    body = res.get_json()
    assert body["nis"] == "4992383" and body["en_registro"] is True
    assert body["registro"]["unidad_regional"]["codigo"] == "SUR"
    assert body["total_documentos"] == 1
    docs = body["documentos_por_tipo"][0]["documentos"]
    assert [d["id"] for d in docs] == [doc_id] and docs[0]["numero"] == "ARC-2026-700001"
    assert body["despachos"] == []  # the dispatch package is present: nothing sent yet


def test_a_nis_only_known_from_documents_still_has_a_file(arc: ApiArchive) -> None:
    add_document(arc.services, 700002, ["8888888"])
    body = _get(arc, f"{API}/supplies/8888888").get_json()
    assert body["en_registro"] is False and body["registro"] is None
    assert body["total_documentos"] == 1


def test_unknown_and_invalid_nis(arc: ApiArchive) -> None:
    res = _get(arc, f"{API}/supplies/7777777")
    assert res.status_code == 404
    code, msg = error_of(res)
    assert code == "no_encontrado" and "7777777" in msg
    res = _get(arc, f"{API}/supplies/abc")
    assert res.status_code == 422 and "no es un NIS válido" in error_of(res)[1]


def test_supply_file_roles(arc: ApiArchive) -> None:
    add_supply(arc.services, "5555555", None)
    for role in ("consulta", "archivista", "despacho", "admin"):
        assert _get(arc, f"{API}/supplies/5555555", role).status_code == 200, role
    assert _get(arc, f"{API}/supplies/5555555", "regional").status_code == 403
    assert arc.client().get(f"{API}/supplies/5555555").status_code == 401


# ----------------------------------------------------------------------------- import

def test_admin_imports_the_export_and_gets_the_report(arc: ApiArchive) -> None:
    lines = [HEADER, *rows(3, start=2000000), "12;Titular malo;1;Calle;Asunción;CEN;T1;ACTIVO"]
    res = _import(arc, lines)
    assert res.status_code == 200, res.get_data(as_text=True)
    report = res.get_json()
    assert report["archivo"] == "padron.csv"
    assert (report["insertados"], report["actualizados"], report["sin_cambios"],
            report["rechazados"]) == (3, 0, 0, 1)
    assert report["rechazos"] == [{"linea": 5, "nis": "12",
                                   "motivo": report["rechazos"][0]["motivo"]}]
    assert "NIS inválido" in report["rechazos"][0]["motivo"]
    assert "UTF-8" in report["formato"] and report["columnas"]["nis"] == "NIS"
    assert supplies(arc.services)["2000001"][0] == "Titular 1"
    assert audit_count(arc.services, "suministros_importados") >= 1
    again = _import(arc, lines).get_json()
    assert (again["insertados"], again["sin_cambios"]) == (0, 3)


def test_import_with_a_mapping_file_or_field(arc: ApiArchive) -> None:
    lines = ["NRO_CLIENTE;NOMBRE_CLIENTE", "3000001;Ana Pérez", "3000002;Juan Díaz"]
    toml = '[columnas]\nnis = ["NRO_CLIENTE"]\ntitular = ["NOMBRE_CLIENTE"]\n'
    res = _import(arc, lines, mapeo=(io.BytesIO(toml.encode()), "mapeo.toml"))
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.get_json()["insertados"] == 2
    res = _import(arc, ["NRO_CLIENTE;NOMBRE_CLIENTE", "3000003;Eva Ruiz"], name="otro.txt",
                  mapeo=toml)
    assert res.status_code == 200 and res.get_json()["insertados"] == 1
    assert supplies(arc.services)["3000003"][0] == "Eva Ruiz"


@pytest.mark.parametrize("lines, extra, needle", [
    (["NRO;NOMBRE", "3100001;Ana"], {}, "Falta una columna obligatoria"),
    ([HEADER, *rows(1, start=3200000)], {"mapeo": "[columnas\n"}, "no es TOML válido"),
    ([HEADER, *rows(1, start=3200000)], {"mapeo": "[otra]\nx = 1\n"}, "secciones desconocidas"),
    ([HEADER, *rows(1, start=3200000)], {"mapeo": '[columnas]\ncolor = ["C"]\n'},
     "no es un campo válido"),
])
def test_bad_import_files_are_422_without_temporary_paths(
        arc: ApiArchive, lines: list[str], extra: dict[str, str], needle: str) -> None:
    res = _import(arc, lines, **extra)
    assert res.status_code == 422
    msg = error_of(res)[1]
    assert needle in msg and "archivo-import-" not in msg and "/tmp" not in msg


def test_import_request_errors(arc: ApiArchive) -> None:
    headers = arc.headers("admin")
    client = arc.client()
    res = client.post(f"{API}/supplies/import", headers=headers, json={"archivo": "x"})
    assert res.status_code == 415
    res = client.post(f"{API}/supplies/import", headers=headers, data={"mapeo": ""},
                      content_type="multipart/form-data")
    assert res.status_code == 422 and "Falta el archivo" in error_of(res)[1]
    res = client.post(f"{API}/supplies/import", headers=headers, content_type="multipart/form-data",
                      data={"archivo": (io.BytesIO(b""), "vacio.csv")})
    assert res.status_code == 422 and "vacío" in error_of(res)[1]


@pytest.mark.parametrize("role", ["archivista", "consulta", "despacho", "regional"])
def test_only_admin_imports(arc: ApiArchive, role: str) -> None:
    res = _import(arc, [HEADER, *rows(1, start=3300000)], role)
    assert res.status_code == 403 and error_of(res)[0] == "prohibido"
    assert "3300000" not in supplies(arc.services)


# ----------------------------------------------------------------------------- regional units

def test_regional_units_for_every_signed_in_role(arc: ApiArchive) -> None:
    for role in ("consulta", "archivista", "despacho", "regional", "admin"):
        res = _get(arc, f"{API}/regional-units", role)
        assert res.status_code == 200, role
    units = res.get_json()["unidades"]
    codes = [u["codigo"] for u in units]
    assert "SUR" in codes and codes == sorted(codes)
    sur = next(u for u in units if u["codigo"] == "SUR")
    assert set(sur) == {"codigo", "nombre", "ciudad", "direccion", "contacto"}
    assert sur["nombre"] == "Regional Sur"
    assert arc.client().get(f"{API}/regional-units").status_code == 401
