"""The shelf records and the dispatches agree: paper is recorded where someone can find it.

An original at a regional unit cannot be recorded in a folder of the archive;
a dispatch takes only registered folders and boxes, never a box with a lent
folder or a folder whose box travels. Each refusal says where the item is.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive import physical as ph
from archive.db import read_scope, session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.services import Services
from dispatch import (Actor, add_courier, add_document, add_folder, create_dispatch,
                      create_return, prepare, receive, send)
from dispatch.physical_rules import dispatch_hold
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import add_document as add_archived_document
from tests.web_support import add_users
from web import create_app

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Asunción
DESPACHO = Actor("despacho1", Role.DESPACHO)
ADMIN = Actor("admin", Role.ADMIN)
NUMBER = "ARC-2026-000001"
ClientAs = Callable[[str], tuple[FlaskClient, str]]


def at(days: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def _shelf(services: Services) -> dict[str, str]:
    """Box CAJA-000001 with folders CARP-000001 and CARP-000002; an empty CAJA-000002."""
    with session_scope(services.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana")
        sala = ph.add_location(db, parent=dep.code, actor="ana")
        est = ph.add_location(db, parent=sala.code, actor="ana")
        box = ph.add_location(db, parent=est.code, actor="ana")
        box2 = ph.add_location(db, parent=est.code, actor="ana")
        ph.create_folder(db, nis="4992383", location=box.code, actor="ana")
        ph.create_folder(db, location=box.code, actor="ana")
    add_courier(services, ADMIN, "Correo Paraguayo")
    return {"box": box.code, "box2": box2.code, "f1": "CARP-000001", "f2": "CARP-000002"}


@pytest.fixture
def shelf(services: Services) -> dict[str, str]:
    add_archived_document(services, 1, ["4992383"])
    return _shelf(services)


def _deliver(services: Services, *, document: str | None = None, label: str | None = None,
             received: bool = True) -> str:
    """An outbound dispatch to Regional Sur carrying one original, sent (and received)."""
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    if document:
        add_document(services, DESPACHO, d.id, archive_number=document, now=at())
    if label:
        add_folder(services, DESPACHO, d.id, label, now=at())
    prepare(services, DESPACHO, d.id, now=at())
    send(services, DESPACHO, d.id, courier="Correo Paraguayo", guide_number="G-1", now=at())
    if received:
        receive(services, ADMIN, d.id, now=at(2))
    return d.number


def _place(services: Services, **where: str) -> ph.DocumentPlace:
    with session_scope(services.sessions) as db:
        return ph.place_document(db, NUMBER, actor="ana", away=dispatch_hold, now=at(3), **where)


def test_an_original_at_a_regional_unit_is_not_recorded_in_a_folder(
        services: Services, shelf: dict[str, str]) -> None:
    number = _deliver(services, document=NUMBER)
    with pytest.raises(ArchivoError, match=f"El original {NUMBER} está en la unidad regional "
                                           f"Regional Sur desde el envío {number} \\(recibido "
                                           "el 04/03/2026\\)"):
        _place(services, folder=shelf["f1"])
    with pytest.raises(ArchivoError, match="está en la unidad regional Regional Sur"):
        _place(services, location=shelf["box2"])
    with read_scope(services.sessions) as db:
        assert ph.document_place(db, 1) is None

    # Back with a return trip: now it can be put away.
    back = create_return(services, ADMIN, number, now=at(3))
    prepare(services, ADMIN, back.id, now=at(3))
    send(services, ADMIN, back.id, courier="Correo Paraguayo", guide_number="G-2", now=at(3))
    receive(services, DESPACHO, back.id, now=at(4))
    assert _place(services, folder=shelf["f1"]).folder is not None


def test_an_original_in_transit_is_not_recorded_either(services: Services,
                                                       shelf: dict[str, str]) -> None:
    number = _deliver(services, document=NUMBER, received=False)
    with pytest.raises(ArchivoError, match=f"en tránsito a Regional Sur \\(despacho {number}"):
        _place(services, folder=shelf["f1"])


def test_an_original_reserved_in_a_draft_is_still_on_the_shelf(services: Services,
                                                               shelf: dict[str, str]) -> None:
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    add_document(services, DESPACHO, d.id, archive_number=NUMBER, now=at())
    assert _place(services, folder=shelf["f1"]).folder is not None


def test_no_original_goes_into_a_lent_or_dispatched_folder(services: Services,
                                                           shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        ph.lend(db, shelf["f2"], borrower="Asesoría Jurídica", due=dt.date(2026, 3, 9),
                actor="ana", away=dispatch_hold, now=at())
    with pytest.raises(ArchivoError, match="La carpeta CARP-000002 está prestada a Asesoría "
                                           "Jurídica desde el 02/03/2026"):
        _place(services, folder=shelf["f2"])
    number = _deliver(services, label=shelf["box2"])
    with pytest.raises(ArchivoError, match=f"{shelf['box2']} está en Regional Sur desde .* "):
        _place(services, location=shelf["box2"])
    assert number


def test_a_dispatch_refuses_an_unregistered_label(services: Services,
                                                  shelf: dict[str, str]) -> None:
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    with pytest.raises(ArchivoError, match="La caja CAJA-9999 no está registrada en el "
                                           "archivo físico"):
        add_folder(services, DESPACHO, d.id, "CAJA-9999", now=at())
    with pytest.raises(ArchivoError, match="La carpeta CARP-000777 no está registrada"):
        add_folder(services, DESPACHO, d.id, "carp-000777", now=at())
    with pytest.raises(ArchivoError, match="La carpeta o caja LEGAJO-5 no está registrada"):
        add_folder(services, DESPACHO, d.id, "legajo 5", now=at())
    assert add_folder(services, DESPACHO, d.id, shelf["box2"], now=at()).label_code == "CAJA-000002"


def test_a_box_with_a_lent_folder_is_not_dispatched(services: Services,
                                                    shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        ph.lend(db, shelf["f2"], borrower="Asesoría Jurídica", due=dt.date(2026, 3, 9),
                actor="ana", away=dispatch_hold, now=at())
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    with pytest.raises(ArchivoError, match=f"No se puede despachar Caja {shelf['box']}: la "
                                           "carpeta CARP-000002 de esa caja está prestada a "
                                           "Asesoría Jurídica desde el 02/03/2026"):
        add_folder(services, DESPACHO, d.id, shelf["box"], now=at())
    with session_scope(services.sessions) as db:
        ph.return_folder(db, shelf["f2"], actor="ana", now=at(1))
    assert add_folder(services, DESPACHO, d.id, shelf["box"], now=at(1)).label_code == "CAJA-000001"


def test_a_box_and_its_folders_travel_together_or_not_at_all(services: Services,
                                                             shelf: dict[str, str]) -> None:
    first = create_dispatch(services, DESPACHO, "SUR", now=at())
    add_folder(services, DESPACHO, first.id, shelf["f1"], now=at())
    second = create_dispatch(services, DESPACHO, "NOR", now=at())
    with pytest.raises(ArchivoError, match=f"la carpeta CARP-000001 de esa caja está en el "
                                           f"archivo, reservado para el despacho {first.number}"):
        add_folder(services, DESPACHO, second.id, shelf["box"], now=at())
    # The other way round: with the box away, its folders cannot leave on their own.
    _deliver(services, label=shelf["box2"])
    with session_scope(services.sessions) as db:
        ph.create_folder(db, code="CARP-SUELTA", location=shelf["box2"], actor="ana")
    with pytest.raises(ArchivoError, match=f"La carpeta CARP-SUELTA está dentro de Caja "
                                           f"{shelf['box2']}, que está en Regional Sur"):
        add_folder(services, DESPACHO, second.id, "CARP-SUELTA", now=at(3))


# ----------------------------------------------------------------------------- web and API

@pytest.fixture
def app(services: Services) -> Flask:
    add_users(services)
    flask_app = create_app(services)
    flask_app.config["TESTING"] = True
    return flask_app


def test_the_web_form_says_where_the_original_is(client_as: ClientAs, services: Services,
                                                 shelf: dict[str, str]) -> None:
    number = _deliver(services, document=NUMBER)
    client, token = client_as("archivista")
    res = client.post("/fisico/documentos", data={"csrf_token": token, "numero": NUMBER,
                                                   "carpeta": shelf["f1"]}, follow_redirects=True)
    page = res.get_data(as_text=True)
    assert (f"El original {NUMBER} está en la unidad regional Regional Sur desde el envío "
            f"{number}") in page
    with read_scope(services.sessions) as db:
        assert ph.document_place(db, 1) is None


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiArchive:
    archive = make_api_archive(tmp_path_factory.mktemp("api"), immediate=False)
    _shelf(archive.services)
    return archive


def test_the_api_refuses_unregistered_boxes_and_boxes_with_lent_folders(api: ApiArchive) -> None:
    c, desk = api.client(), api.headers("despacho")
    did = c.post(f"{API}/dispatches", json={"destino": "SUR"}, headers=desk).get_json()["id"]
    res = c.post(f"{API}/dispatches/{did}/items", json={"clase": "carpeta",
                                                        "etiqueta": "CAJA-9999"}, headers=desk)
    assert res.status_code == 422
    assert "La caja CAJA-9999 no está registrada" in error_of(res)[1]
    with session_scope(api.services.sessions) as db:
        ph.lend(db, "CARP-000001", borrower="Gerencia Comercial",
                due=dt.date.today() + dt.timedelta(days=5), actor="ana", away=dispatch_hold)
    res = c.post(f"{API}/dispatches/{did}/items", json={"clase": "carpeta",
                                                        "etiqueta": "CAJA-000001"}, headers=desk)
    assert res.status_code == 422
    assert "la carpeta CARP-000001 de esa caja está prestada a Gerencia Comercial" in \
        error_of(res)[1]
