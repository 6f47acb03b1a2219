"""``/api/v1/dispatches``: the trip of an encomienda through the API, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db import session_scope
from archive.enums import Role
from dispatch.couriers import add_courier
from dispatch.permissions import Actor
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import add_document


@pytest.fixture
def api(tmp_path: Path) -> ApiArchive:
    archive = make_api_archive(tmp_path, immediate=False)
    add_courier(archive.services, Actor("t", Role.DESPACHO), "Encomiendas Rápidas")
    return archive


def test_dispatch_trip_through_the_api(api: ApiArchive) -> None:
    add_document(api.services, 7, ["1234567"])
    c = api.client()
    desk = api.headers("despacho")
    res = c.post(f"{API}/dispatches", json={"destino": "SUR", "notas": "croquis"}, headers=desk)
    assert res.status_code == 201, res.get_json()
    d = res.get_json()
    assert d["numero"].startswith("ENV-") and d["estado"] == "borrador"
    assert d["acciones"] == ["preparar", "anular"]
    did = d["id"]

    item = c.post(f"{API}/dispatches/{did}/items", json={"numero": "ARC-2026-000007"},
                  headers=desk)
    assert item.status_code == 201 and item.get_json()["nis"] == ["1234567"]
    extra = c.post(f"{API}/dispatches/{did}/items",
                   json={"clase": "texto", "descripcion": "antecedentes", "fojas": 12},
                   headers=desk).get_json()
    assert c.delete(f"{API}/dispatches/{did}/items/{extra['id']}", headers=desk).status_code == 204

    # the same original cannot travel in a second open dispatch
    other = c.post(f"{API}/dispatches", json={"destino": "EST"}, headers=desk).get_json()
    twice = c.post(f"{API}/dispatches/{other['id']}/items", json={"numero": "ARC-2026-000007"},
                   headers=desk)
    assert twice.status_code == 422 and "ARC-2026-000007" in error_of(twice)[1]

    early = c.post(f"{API}/dispatches/{did}/enviar",
                   json={"transportista": "Encomiendas Rápidas", "guia": "G-1"}, headers=desk)
    assert early.status_code == 409
    code, message = error_of(early)
    assert code == "transicion_no_permitida" and "solo se puede" in message

    assert c.post(f"{API}/dispatches/{did}/preparar", headers=desk).status_code == 200
    sent = c.post(f"{API}/dispatches/{did}/enviar",
                  json={"transportista": "Encomiendas Rápidas", "guia": "G-77"}, headers=desk)
    assert sent.status_code == 200 and sent.get_json()["estado"] == "enviado"
    assert sent.get_json()["entrega_prevista"]

    listed = c.get(f"{API}/dispatches?estado=enviado", headers=api.headers("consulta"))
    assert [x["numero"] for x in listed.get_json()["despachos"]] == [d["numero"]]

    # only the destination unit confirms
    refused = c.post(f"{API}/dispatches/{did}/recibir", json={}, headers=desk)
    assert refused.status_code == 403
    received = c.post(f"{API}/dispatches/{did}/recibir", json={"items": [
        {"item": "ARC-2026-000007", "resultado": "danado", "nota": "mojado"}]},
        headers=api.headers("regional"))
    assert received.status_code == 200, received.get_json()
    body = received.get_json()
    assert body["estado"] == "recibido_con_observaciones"
    assert body["items"][0]["resultado"] == "danado"
    assert {e["accion"] for e in body["eventos"]} >= {"crear", "preparar", "enviar", "recibir"}

    pdf = c.get(f"{API}/dispatches/{did}/manifiesto.pdf", headers=desk)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_dispatch_api_refusals(api: ApiArchive) -> None:
    c = api.client()
    desk = api.headers("despacho")
    assert c.post(f"{API}/dispatches", json={"destino": "SUR"},
                  headers=api.headers("consulta")).status_code == 403
    assert c.get(f"{API}/dispatches").status_code == 401
    unknown = c.post(f"{API}/dispatches", json={"destino": "XXX"}, headers=desk)
    assert unknown.status_code == 422 and "XXX" in error_of(unknown)[1]
    missing = c.post(f"{API}/dispatches", json={}, headers=desk)
    assert missing.status_code == 422 and "destino" in error_of(missing)[1]
    not_json = c.post(f"{API}/dispatches", data="destino=SUR", headers=desk)
    assert not_json.status_code == 415
    assert c.get(f"{API}/dispatches/999", headers=desk).status_code == 404
    bad_state = c.get(f"{API}/dispatches?estado=volando", headers=desk)
    assert bad_state.status_code == 400

    did = c.post(f"{API}/dispatches", json={"destino": "SUR"}, headers=desk).get_json()["id"]
    no_reason = c.post(f"{API}/dispatches/{did}/anular", json={"motivo": ""}, headers=desk)
    assert no_reason.status_code == 422
    bad_kind = c.post(f"{API}/dispatches/{did}/items", json={"clase": "caja"}, headers=desk)
    assert bad_kind.status_code == 422
    with session_scope(api.services.sessions) as db:
        from archive.users import create_user

        create_user(db, "u_este", "regional", password="clave-de-prueba-123", regional_code="EST")
        from archive.accounts import create_token
        from archive.models import User

        secret = create_token(db, db.scalar(select(User).where(User.username == "u_este")),
                              "t", actor="t")[1]
    other_unit = c.get(f"{API}/dispatches/{did}", headers={"Authorization": f"Bearer {secret}"})
    assert other_unit.status_code == 404  # answered as a missing dispatch
    assert c.get(f"{API}/dispatches/{did}", headers=api.headers("regional")).status_code == 200
