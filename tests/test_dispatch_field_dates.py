"""Dispatch dates as people give them (issue 14): a bare date is a day in Paraguay, every
API timestamp carries its offset, and impossible send or receipt dates are refused."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import local_date, local_today, zone
from dispatch import items, service
from dispatch.couriers import add_courier
from dispatch.overdue import overdue_dispatches
from dispatch.permissions import Actor
from dispatch.report import monthly_report
from tests.api_support import API, ApiArchive, error_of, make_api_archive

DESK = Actor("despacho_t", Role.DESPACHO)
ADMIN = Actor("admin_t", Role.ADMIN)
COURIER = "Encomiendas Rápidas"
OFFSET = re.compile(r"T\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture
def api(tmp_path: Path) -> ApiArchive:
    archive = make_api_archive(tmp_path, immediate=False)
    add_courier(archive.services, DESK, COURIER)
    return archive


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), zone())


def _prepared(api: ApiArchive, created: dt.datetime, prepared: dt.datetime) -> int:
    """A prepared dispatch to SUR whose creation and preparation happened at the given times."""
    d = service.create_dispatch(api.services, DESK, "SUR", now=created)
    items.add_text(api.services, DESK, d.id, "antecedentes", sheets=3, now=created)
    service.prepare(api.services, DESK, d.id, now=prepared)
    return d.id


def _first_of_a_past_month() -> dt.date:
    """The first day of a month well in the past: its day before is in another month."""
    return (local_today().replace(day=1) - dt.timedelta(days=40)).replace(day=1)


def test_a_bare_send_date_in_the_api_is_that_day_in_paraguay(api: ApiArchive) -> None:
    day = _first_of_a_past_month()
    eve = day - dt.timedelta(days=1)
    did = _prepared(api, _local(eve, 15), _local(eve, 16))
    res = api.client().post(f"{API}/dispatches/{did}/enviar", headers=api.headers("despacho"),
                            json={"transportista": COURIER, "guia": "G-1",
                                  "fecha_envio": day.isoformat()})
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    sent = dt.datetime.fromisoformat(body["enviado"])
    assert sent.tzinfo is not None and local_date(sent) == day
    assert body["entrega_prevista"] == (day + dt.timedelta(days=3)).isoformat()

    # the monthly report counts it in its own month, not in the month of the day before
    rows = monthly_report(api.services, ADMIN, first=eve, last=day,
                          today=day + dt.timedelta(days=1))
    assert [(r.month, r.sent) for r in rows] == [(f"{day:%Y-%m}", 1)]
    # due on the third day after the send day, overdue from the fourth
    assert overdue_dispatches(api.services, ADMIN, today=day + dt.timedelta(days=3)) == []
    late = overdue_dispatches(api.services, ADMIN, today=day + dt.timedelta(days=4))
    assert [(o.dispatch.id, o.days_late) for o in late] == [(did, 1)]

    page_client, _ = api.session_client("despacho")
    page = page_client.get(f"/despachos/{did}").get_data(as_text=True)
    assert f"<dt>Enviado</dt><dd>{day:%d/%m/%Y}</dd>" in page


def test_every_dispatch_timestamp_in_the_api_has_its_offset(api: ApiArchive) -> None:
    c, desk = api.client(), api.headers("despacho")
    did = c.post(f"{API}/dispatches", json={"destino": "SUR"}, headers=desk).get_json()["id"]
    c.post(f"{API}/dispatches/{did}/items", json={"clase": "texto", "descripcion": "croquis",
                                                  "fojas": 2}, headers=desk)
    c.post(f"{API}/dispatches/{did}/preparar", headers=desk)
    c.post(f"{API}/dispatches/{did}/enviar", json={"transportista": COURIER, "guia": "G-2"},
           headers=desk)
    res = c.post(f"{API}/dispatches/{did}/recibir", json={}, headers=api.headers("regional"))
    assert res.status_code == 200, res.get_json()
    for body in (res.get_json(), c.get(f"{API}/dispatches/{did}", headers=desk).get_json(),
                 c.get(f"{API}/dispatches", headers=desk).get_json()["despachos"][0]):
        for name in ("creado", "preparado", "enviado", "recibido"):
            assert OFFSET.search(body[name]), (name, body[name])
    events = c.get(f"{API}/dispatches/{did}", headers=desk).get_json()["eventos"]
    assert events and all(OFFSET.search(e["fecha"]) for e in events)


def test_a_send_date_before_the_preparation_is_refused_everywhere(api: ApiArchive) -> None:
    today = local_today()
    prepared = _local(today - dt.timedelta(days=2), 10)
    did = _prepared(api, prepared - dt.timedelta(hours=1), prepared)
    too_early = today - dt.timedelta(days=19)

    with pytest.raises(ArchivoError, match="anterior a la preparación"):
        service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                     sent_at=too_early)
    with pytest.raises(ArchivoError, match="anterior a la preparación"):
        service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                     sent_at=prepared - dt.timedelta(minutes=5))

    c, desk = api.client(), api.headers("despacho")
    res = c.post(f"{API}/dispatches/{did}/enviar", headers=desk, json={
        "transportista": COURIER, "guia": "G", "fecha_envio": too_early.isoformat()})
    assert res.status_code == 422
    assert f"{too_early:%d/%m/%Y}" in error_of(res)[1] and "preparación" in error_of(res)[1]

    web, token = api.session_client("despacho")
    res = web.post(f"/despachos/{did}/enviar", data={
        "csrf_token": token, "transportista": COURIER, "guia": "G",
        "fecha_envio": too_early.isoformat()}, follow_redirects=True)
    assert res.status_code == 200
    assert "anterior a la preparación" in res.get_data(as_text=True)

    # the same day as the preparation is fine, and is stored on that day
    sent = service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                        sent_at=prepared.date())
    assert sent.sent_at is not None and local_date(sent.sent_at) == prepared.date()
    assert sent.sent_at >= prepared


def test_future_send_dates_are_refused_beyond_a_small_tolerance(api: ApiArchive) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    did = _prepared(api, now - dt.timedelta(hours=2), now - dt.timedelta(hours=1))
    with pytest.raises(ArchivoError, match="no puede ser futura"):
        service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                     sent_at=now + dt.timedelta(hours=2), now=now)
    with pytest.raises(ArchivoError, match="no puede ser futura"):
        service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                     sent_at=local_today(now) + dt.timedelta(days=1), now=now)
    res = api.client().post(f"{API}/dispatches/{did}/enviar", headers=api.headers("despacho"),
                            json={"transportista": COURIER, "guia": "G",
                                  "fecha_envio": (now + dt.timedelta(days=1)).isoformat()})
    assert res.status_code == 422 and "futura" in error_of(res)[1]
    ok = service.send(api.services, DESK, did, courier=COURIER, guide_number="G",
                      sent_at=now + dt.timedelta(minutes=2), now=now)
    assert ok.state.value == "enviado"


def test_a_receipt_date_before_the_send_date_is_refused(api: ApiArchive) -> None:
    today = local_today()
    sent_day = today - dt.timedelta(days=3)
    did = _prepared(api, _local(sent_day, 8), _local(sent_day, 9))
    service.send(api.services, DESK, did, courier=COURIER, guide_number="G", sent_at=sent_day)
    regional = api.headers("regional")
    before = (sent_day - dt.timedelta(days=1)).isoformat()
    res = api.client().post(f"{API}/dispatches/{did}/recibir", headers=regional,
                            json={"fecha_recepcion": before})
    assert res.status_code == 422 and "anterior al envío" in error_of(res)[1]

    web, token = api.session_client("regional")
    page = web.post(f"/despachos/{did}/recepcion", data={
        "csrf_token": token, "fecha_recepcion": before}, follow_redirects=True)
    assert "anterior al envío" in page.get_data(as_text=True)

    arrived = sent_day + dt.timedelta(days=2)
    res = api.client().post(f"{API}/dispatches/{did}/recibir", headers=regional,
                            json={"fecha_recepcion": arrived.isoformat()})
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert local_date(dt.datetime.fromisoformat(body["recibido"])) == arrived
    page = api.session_client("despacho")[0].get(f"/despachos/{did}").get_data(as_text=True)
    assert "(2 días en tránsito)" in page


def test_cli_refuses_a_send_day_before_the_dispatch_was_prepared(api: ApiArchive) -> None:
    from archivo_cli import dispatch_cmd
    from tests.conftest import home_env

    @click.group()
    def cli() -> None:
        """Only the dispatch commands."""

    dispatch_cmd.register(cli)
    did = _prepared(api, dt.datetime.now(dt.timezone.utc), dt.datetime.now(dt.timezone.utc))
    yesterday = local_today() - dt.timedelta(days=1)
    out = CliRunner().invoke(cli, ["despacho", "enviar", str(did), "--transportista", COURIER,
                                   "--guia", "G", "--fecha", yesterday.isoformat()],
                             env=home_env(Path(api.services.settings.home)))
    assert out.exit_code == 1
    assert "anterior a la preparación" in out.output and "Traceback" not in out.output
