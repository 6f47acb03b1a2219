"""What people read about dispatches (issue 14): local times, Spanish event labels, mistakes
shown on the same page, hints that belong to the web or the API, the report CSV as Excel
opens it, and the manifest's document properties."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import click
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from archive.enums import Role
from archive.localtime import local_today
from dispatch import items, service
from dispatch.couriers import add_courier
from dispatch.permissions import Actor
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.conftest import home_env

DESK = Actor("despacho_t", Role.DESPACHO)
SUR = Actor("sur_t", Role.ADMIN)
COURIER = "Encomiendas Rápidas"
CODES = ("agregar_item", "quitar_item", "resolver_item", "Borrador → Borrador",
         "Borrador -> Borrador")


@pytest.fixture
def api(tmp_path: Path) -> ApiArchive:
    archive = make_api_archive(tmp_path, immediate=False)
    add_courier(archive.services, DESK, COURIER)
    return archive


def _cli(api: ApiArchive, *args: str):  # type: ignore[no-untyped-def]
    from archivo_cli import dispatch_cmd

    @click.group()
    def cli() -> None:
        """Only the dispatch commands."""

    dispatch_cmd.register(cli)
    return CliRunner().invoke(cli, list(args), env=home_env(Path(api.services.settings.home)))


def _draft_with_items(api: ApiArchive, now: dt.datetime) -> int:
    d = service.create_dispatch(api.services, DESK, "SUR", now=now)
    kept = items.add_text(api.services, DESK, d.id, "antecedentes", sheets=3, now=now)
    gone = items.add_text(api.services, DESK, d.id, "sobra", sheets=1, now=now)
    items.remove_item(api.services, DESK, d.id, gone.id, now=now)
    assert kept.id != gone.id
    return d.id


def test_cli_history_is_in_local_time_with_spanish_labels(api: ApiArchive) -> None:
    created = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.timezone.utc)  # 01/03 22:30 in Asunción
    did = _draft_with_items(api, created)
    service.prepare(api.services, DESK, did, now=created + dt.timedelta(hours=1))
    out = _cli(api, "despacho", "ver", str(did))
    assert out.exit_code == 0, out.output
    history = out.output.split("Historial", 1)[1]
    assert "01/03/2026 22:30" in history and "02/03/2026 01:30" not in history
    assert "UTC" not in history
    assert "Ítem agregado (Borrador)" in history and "Ítem quitado (Borrador)" in history
    assert "Preparación (Borrador → Preparado)" in history
    assert not any(code in history for code in CODES)


def test_web_and_api_history_use_spanish_labels(api: ApiArchive) -> None:
    did = _draft_with_items(api, dt.datetime.now(dt.timezone.utc))
    web, _ = api.session_client("despacho")
    page = web.get(f"/despachos/{did}").get_data(as_text=True)
    history = page.split("<h2>Historial</h2>", 1)[1]
    assert "Ítem agregado" in history and "Ítem quitado" in history and "Creación" in history
    assert not any(code in history for code in CODES)
    events = api.client().get(f"{API}/dispatches/{did}",
                              headers=api.headers("despacho")).get_json()["eventos"]
    assert [e["accion_nombre"] for e in events] == ["Creación", "Ítem agregado",
                                                     "Ítem agregado", "Ítem quitado"]


def test_unknown_archive_number_in_add_item_stays_on_the_dispatch_page(api: ApiArchive) -> None:
    web, token = api.session_client("despacho")
    did = service.create_dispatch(api.services, DESK, "SUR").id
    res = web.post(f"/despachos/{did}/items", data={
        "csrf_token": token, "clase": "documento", "referencia": "ARC-2026-000999",
        "copia": "copia"})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/despachos/{did}")
    page = web.get(res.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "No existe el documento ARC-2026-000999" in text
    assert 'value="ARC-2026-000999"' in text  # what was typed is still in the form
    assert re.search(r'<option value="copia"\s+selected>', text)
    # once shown, the form is empty again
    assert 'value="ARC-2026-000999"' not in web.get(f"/despachos/{did}").get_data(as_text=True)


def test_bad_dates_in_list_and_report_keep_the_form(api: ApiArchive) -> None:
    web, _ = api.session_client("consulta")
    listing = web.get("/despachos?desde=ayer")
    text = listing.get_data(as_text=True)
    assert listing.status_code == 400
    assert "Despachos a unidades regionales" in text and 'name="estado"' in text
    assert "«ayer» no es una fecha válida" in text and 'value="ayer"' in text

    report = web.get("/despachos/informe?desde=2026-13-01&hasta=2026-11")
    text = report.get_data(as_text=True)
    assert report.status_code == 400
    assert "Informe mensual por unidad regional" in text
    assert "«2026-13-01» no es una fecha válida" in text
    assert 'value="2026-13-01"' in text and 'value="2026-11"' in text

    backwards = web.get("/despachos/informe?desde=2026-11-10&hasta=2026-10-01")
    assert backwards.status_code == 400
    assert "anterior a «Desde»" in backwards.get_data(as_text=True)

    months = web.get("/despachos/informe?desde=2026-02&hasta=2026-02")
    assert months.status_code == 200
    assert 'value="2026-02-01"' in months.get_data(as_text=True)
    assert 'value="2026-02-28"' in months.get_data(as_text=True)


def test_unknown_regional_unit_points_at_each_interface_own_list(api: ApiArchive) -> None:
    res = api.client().post(f"{API}/dispatches", json={"destino": "XYZ"},
                            headers=api.headers("despacho"))
    assert res.status_code == 422
    message = error_of(res)[1]
    assert "XYZ" in message and f"{API}/regional-units" in message
    assert "archivo regional" not in message
    listed = api.client().get(f"{API}/regional-units", headers=api.headers("despacho"))
    assert listed.status_code == 200
    filtered = api.client().get(f"{API}/dispatches?destino=XYZ", headers=api.headers("despacho"))
    assert filtered.status_code == 422 and "regional-units" in error_of(filtered)[1]

    web, token = api.session_client("despacho")
    page = web.post("/despachos", data={"csrf_token": token, "destino": "XYZ"},
                    follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "No existe la unidad regional «XYZ»" in text
    assert "archivo regional" not in text and "--regional" not in text

    out = _cli(api, "despacho", "crear", "XYZ")
    assert out.exit_code == 1 and "archivo regional list" in out.output


def test_send_without_couriers_speaks_of_the_web_not_of_commands(api: ApiArchive) -> None:
    from dispatch.couriers import set_courier_active

    set_courier_active(api.services, DESK, COURIER, False)
    d = service.create_dispatch(api.services, DESK, "SUR")
    items.add_text(api.services, DESK, d.id, "croquis", sheets=1)
    service.prepare(api.services, DESK, d.id)
    res = api.client().post(f"{API}/dispatches/{d.id}/enviar", headers=api.headers("despacho"),
                            json={"transportista": "Correo", "guia": "G"})
    assert res.status_code == 422
    assert "archivo despacho" not in error_of(res)[1] and "no existe" in error_of(res)[1]


def _received(api: ApiArchive, sent_day: dt.date, days: int) -> None:
    """Sent on ``sent_day`` (local morning), received ``days`` later."""
    start = dt.datetime.combine(sent_day, dt.time(13), dt.timezone.utc)
    d = service.create_dispatch(api.services, DESK, "SUR", now=start)
    items.add_text(api.services, DESK, d.id, "antecedentes del envío", sheets=2, now=start)
    service.prepare(api.services, DESK, d.id, now=start)
    service.send(api.services, DESK, d.id, courier=COURIER, guide_number="G",
                 now=start + dt.timedelta(hours=1))
    service.receive(api.services, SUR, d.id, now=start + dt.timedelta(days=days, hours=2))


def test_report_csv_opens_in_excel_and_agrees_with_the_page(api: ApiArchive) -> None:
    day = (local_today().replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    _received(api, day, 2)
    _received(api, day + dt.timedelta(days=1), 3)
    web, _ = api.session_client("despacho")
    period = f"desde={day.isoformat()}&hasta={day + dt.timedelta(days=20):%Y-%m-%d}"
    res = web.get(f"/despachos/informe?{period}&formato=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert res.data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark for Excel
    lines = res.data.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:4] == ["mes", "codigo_unidad", "unidad", "sentido"]
    row = lines[1].split(";")
    assert row[:7] == [f"{day:%Y-%m}", "SUR", "Regional Sur", "envío", "2", "2", "2,5"]
    page = web.get(f"/despachos/informe?{period}").get_data(as_text=True)
    assert "<td>2,5</td>" in page and "2.5" not in page

    out = _cli(api, "despacho", "informe", "--desde", f"{day:%Y-%m}", "--csv",
               str(Path(api.services.settings.home) / "informe.csv"))
    assert out.exit_code == 0, out.output
    saved = (Path(api.services.settings.home) / "informe.csv").read_bytes()
    assert saved == res.data


def test_manifest_pdf_has_title_author_subject_and_language(api: ApiArchive) -> None:
    d = service.create_dispatch(api.services, DESK, "SUR")
    items.add_text(api.services, DESK, d.id, "croquis", sheets=1)
    web, _ = api.session_client("despacho")
    data = web.get(f"/despachos/{d.id}/manifiesto.pdf").data
    meta = pdfium.PdfDocument(io.BytesIO(data)).get_metadata_dict()
    assert meta["Title"] == f"Nota de remisión interna {d.number}"
    assert meta["Author"] == "archivo" and meta["Creator"].startswith("archivo")  # as every PDF
    assert d.number in meta["Subject"] and "Regional Sur" in meta["Subject"]
    assert b"/Lang (es)" in data
