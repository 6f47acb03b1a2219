"""Object-level access: a role reaches only the objects it may, whatever id a URL carries.

``test_web_access`` checks each endpoint's roles with placeholder ids. This sweep
calls every endpoint that takes an id (web and API, from ``app.url_map``) with
the ids of real objects the role must not reach: another unit's dispatches for
a regional user, accounts for everyone but admin, another person's token for
anybody, write endpoints for readers. Each call must be refused (403 or 404)
without a word of the object (its number, archive number, NIS, guide) in the
answer. A new endpoint taking an id fails the sweep until it is classified.

The reported hole is tested on its own: a regional unit adding to its return
trip a document it never held is answered as for a document that does not
exist, so ids and numbers cannot be probed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import create_token
from archive.batches import Batch
from archive.db import session_scope
from archive.enums import DocumentType, LinkSource, Role
from archive.models import ApiToken, Blob, Document, DocumentSupply, RegionalUnit, User
from archive.services import Services
from archive.users import create_user
from dispatch import Actor, add_courier
from dispatch import items as dispatch_items
from dispatch import service
from dispatch.enums import ItemOutcome
from dispatch.items import unit_holds
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.physical_helpers import register_boxes, register_folders
from tests.web_support import ROLE_USERS, sign_in

DESK = Actor("u_despacho", Role.DESPACHO)
COURIER = "Encomiendas Rápidas"
ALL_ROLES = [r.value for r in Role]
ARCHIVE_READERS = frozenset({"admin", "despacho", "archivista", "consulta"})

# Each endpoint taking an id, by the family of object its ids name. A new endpoint with an
# id in its URL must be added here (and given a family with its readers), or the sweep fails.
CLASSIFIED: dict[str, str] = {
    # dispatches (dispatch_id, item_id)
    **{f"dispatch_pages.{e}": "dispatch" for e in (
        "detail", "annul", "create_return", "send", "add_item", "remove_item", "resolve",
        "manifest", "prepare", "reopen", "receipt", "receive")},
    **{f"api.{e}": "dispatch" for e in (
        "get_dispatch", "annul_dispatch", "send_dispatch", "add_dispatch_item",
        "remove_dispatch_item", "dispatch_manifest", "prepare_dispatch", "receive_dispatch")},
    # documents (doc_id, page numbers, a linked NIS)
    **{f"documents.{e}": "document" for e in (
        "view", "edit", "remove_link", "original", "page_image", "thumbnail", "pdf")},
    **{f"review.{e}": "document" for e in ("link_one", "confirm_one", "correct_one",
                                             "reject_one")},
    **{f"api.{e}": "document" for e in (
        "get_document", "edit_document", "document_original", "page_image", "page_text",
        "page_thumbnail", "document_pdf")},
    **{f"batches.{e}": "batch" for e in ("view", "split", "move", "merge_parts")},
    "supplies.view": "supply", "supplies.unlink": "supply", "supplies.link": "supply",
    "api.get_supply": "supply",
    **{f"physical.{e}": "folder" for e in ("folder", "give_back", "edit_folder", "move_folder",
                                           "lend")},
    "physical.location": "location", "physical.move_location": "location",
    # accounts and settings
    **{f"admin.{e}": "user" for e in ("activate", "password", "unlock_user", "set_role")},
    "admin.unit": "unit", "admin.edit_unit": "unit",
    "admin.revoke": "token",
    "auth.revoke": "other_token",
    "dispatch_pages.toggle_courier": "courier",
    # signed links: the signature is the capability
    "objects.signed_object": "signed",
}

# Who may read an object of each family that is not theirs. Everyone else gets 403 or 404.
READERS: dict[str, frozenset[str]] = {
    "dispatch": ARCHIVE_READERS,  # a regional user: only its own unit's (not these)
    "document": ARCHIVE_READERS, "batch": ARCHIVE_READERS, "supply": ARCHIVE_READERS,
    "folder": ARCHIVE_READERS, "location": ARCHIVE_READERS,
    "user": frozenset({"admin"}), "unit": frozenset({"admin"}), "token": frozenset({"admin"}),
    "courier": frozenset({"admin", "despacho"}),
    "other_token": frozenset(),  # another person's token: nobody revokes it from /cuenta
    "signed": frozenset(),  # never without a valid signature
}

# Enough of every body the write endpoints read, so only the object decides the answer.
FIELDS: dict[str, Any] = {
    "clase": "texto", "descripcion": "antecedentes", "fojas": 1, "original": False,
    "motivo": "prueba", "transportista": COURIER, "guia": "G-9", "nota": "prueba",
    "items": [], "titulo": "otro", "nis": "5550001", "rol": "consulta", "activo": "1",
    "contrasena": "otra-clave-de-prueba-1", "nombre": "Otra", "prestatario": "Alguien",
}


@dataclass
class World:
    """An archive where Regional Este holds things Regional Sur must not reach."""

    archive: ApiArchive
    foreign_dispatches: list[int] = field(default_factory=list)  # Regional Este's
    foreign_items: dict[int, int] = field(default_factory=dict)  # dispatch id -> an item id
    own_dispatch: int = 0  # Regional Sur's, received
    doc_id: int = 0  # went to Regional Este
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # family -> URL values
    secrets: dict[str, list[str]] = field(default_factory=dict)  # family -> words never shown


def _doc(svc: Services, n: int, nis: str, title: str) -> int:
    with session_scope(svc.sessions) as s:
        blob = Blob(sha256=f"{n:064x}", size=1, media_type="application/pdf",
                    storage_key=f"originals/t/{n}")
        s.add(blob)
        s.flush()
        doc = Document(archive_number=f"ARC-2026-{n:06d}", original_blob_id=blob.id,
                       doc_type=DocumentType.CROQUIS, page_count=1, title=title)
        s.add(doc)
        s.flush()
        s.add(DocumentSupply(document_id=doc.id, nis=nis, source=LinkSource.MANUAL,
                             created_by="t"))
        return doc.id


def _unit(svc: Services, code: str) -> int:
    with session_scope(svc.sessions) as s:
        return int(s.scalar(select(RegionalUnit.id).where(RegionalUnit.code == code)))


def _trip(svc: Services, unit: str, receiver: Actor, guide: str,
          docs: Sequence[tuple[int, bool]] = (), labels: Sequence[str] = (),
          receive: bool = True) -> int:
    """An outbound dispatch with these documents (id, original) and labels, sent and
    (unless ``receive`` is false) received by the unit."""
    d = service.create_dispatch(svc, DESK, unit)
    for doc_id, original in docs:
        dispatch_items.add_document(svc, DESK, d.id, document_id=doc_id, original=original)
    for label in labels:
        dispatch_items.add_folder(svc, DESK, d.id, label)
    service.prepare(svc, DESK, d.id)
    service.send(svc, DESK, d.id, courier=COURIER, guide_number=guide)
    if receive:
        service.receive(svc, receiver, d.id)
    return d.id


def _build(tmp: Path) -> World:
    archive = make_api_archive(tmp, immediate=False)
    svc = archive.services
    add_courier(svc, DESK, COURIER)
    with session_scope(svc.sessions) as s:
        create_user(s, "u_este", "regional", password="clave-de-prueba-123",
                    regional_code="EST", full_name="Encargada Reservada Este")
    este = Actor("u_este", Role.REGIONAL, _unit(svc, "EST"))
    sur = Actor(ROLE_USERS["regional"], Role.REGIONAL, _unit(svc, "SUR"))
    east_doc = _doc(svc, 101, "7770001", "Croquis reservado Este")
    draft_doc = _doc(svc, 103, "7770003", "Antecedente borrador Este")
    south_doc = _doc(svc, 102, "7770002", "Croquis Sur")
    register_boxes(svc, "CAJA-0901")
    register_folders(svc, "CARP-0901")

    received = _trip(svc, "EST", este, "GUIA-ESTE-1", [(east_doc, True)], ["CAJA-0901"])
    draft = service.create_dispatch(svc, DESK, "EST", notes="borrador reservado")
    dispatch_items.add_document(svc, DESK, draft.id, document_id=draft_doc, original=False)
    own = _trip(svc, "SUR", sur, "GUIA-SUR-1", [(south_doc, True)])

    with session_scope(svc.sessions) as s:
        este_user = s.scalar(select(User).where(User.username == "u_este"))
        assert este_user is not None
        create_token(s, este_user, "token de Este", actor="t")
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.user_id == este_user.id))
        doc = s.get(Document, east_doc)
        assert doc is not None
        batch = Batch(document_id=doc.id, source_blob_id=doc.original_blob_id, page_count=1)
        s.add(batch)
        s.flush()
        batch_id, user_id, blob_key = batch.id, este_user.id, doc.original.storage_key
        numbers = {d_id: s.scalar(select(Document.archive_number).where(Document.id == d_id))
                   for d_id in (east_doc, draft_doc)}
    views = {d_id: service_view(svc, d_id) for d_id in (received, draft.id)}
    world = World(archive, foreign_dispatches=[received, draft.id], own_dispatch=own,
                  doc_id=east_doc)
    world.foreign_items = {d_id: v.items[0].id for d_id, v in views.items()}
    doc_values = {"doc_id": east_doc, "n": 1, "number": 1, "nis": "7770001"}
    world.values = {
        "document": doc_values, "batch": {"batch_id": batch_id},
        "supply": {"nis": "7770001", "doc_id": east_doc},
        "folder": {"code": "CARP-0901"}, "location": {"code": "CAJA-0901"},
        "user": {"user_id": user_id}, "unit": {"code": "EST"}, "token": {"token_id": token_id},
        "other_token": {"token_id": token_id}, "courier": {"courier_id": _courier_id(svc)},
        "signed": {"key": blob_key},
    }
    dispatch_words = [v.number for v in views.values()] + [
        "GUIA-ESTE-1", "borrador reservado", *numbers.values(), "7770001", "7770003",
        "Croquis reservado Este", "Antecedente borrador Este"]
    world.secrets = {
        "dispatch": dispatch_words,
        "document": [numbers[east_doc], "Croquis reservado Este", "GUIA-ESTE-1"],
        "batch": [numbers[east_doc], "7770001", "Croquis reservado Este"],
        "supply": [numbers[east_doc], "Croquis reservado Este"],
        "folder": ["GUIA-ESTE-1"], "location": ["GUIA-ESTE-1"],
        "user": ["Encargada Reservada Este", "token de Este"], "unit": ["token de Este"],
        "token": ["token de Este"], "other_token": ["token de Este"],
        "courier": ["GUIA-ESTE-1"], "signed": [numbers[east_doc]],
    }
    return world


def service_view(svc: Services, dispatch_id: int):  # type: ignore[no-untyped-def]
    from dispatch.queries import get_dispatch

    return get_dispatch(svc, DESK, dispatch_id)


def _courier_id(svc: Services) -> int:
    from dispatch.couriers import list_couriers

    return next(c.id for c in list_couriers(svc, include_inactive=True) if c.name == COURIER)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = _build(tmp_path_factory.mktemp("objetos"))
    yield w
    w.archive.services.dispose()


def _id_rules(world: World) -> list[Any]:
    return [r for r in world.archive.app.url_map.iter_rules()
            if r.arguments and r.endpoint != "static"]


def _calls(world: World, family: str) -> list[dict[str, Any]]:
    """The URL values to try: every foreign dispatch (with one of its items) or the
    family's one object."""
    if family != "dispatch":
        return [world.values[family]]
    return [{"dispatch_id": d, "item_id": world.foreign_items[d]}
            for d in world.foreign_dispatches]


def _request(client: FlaskClient, csrf: str, method: str, url: str):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": csrf}
    if method == "GET":
        return client.open(url, method=method, headers=headers)
    if url.startswith(API):
        return client.open(url, method=method, json=FIELDS, headers=headers)
    form = {k: ("" if isinstance(v, list) else str(v)) for k, v in FIELDS.items()}
    return client.open(url, method=method, data={**form, "csrf_token": csrf}, headers=headers)


def test_every_endpoint_taking_an_id_is_classified(world: World) -> None:
    """A new id-taking endpoint must say whose objects it reaches before it can ship."""
    endpoints = {r.endpoint for r in _id_rules(world)}
    assert sorted(endpoints - set(CLASSIFIED)) == [], "clasifique estos endpoints en CLASSIFIED"
    assert sorted(set(CLASSIFIED) - endpoints) == [], "endpoints clasificados que ya no existen"
    assert set(CLASSIFIED.values()) <= set(READERS)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_no_role_reaches_objects_it_must_not(world: World, role: str) -> None:
    """Refused with 403 or 404, and nothing of the object in the answer."""
    client = world.archive.app.test_client()
    csrf = sign_in(client, ROLE_USERS[role])
    from web.security import access_of, role_allowed

    adapter = world.archive.app.url_map.bind("localhost")
    checked, leaks = 0, []
    for rule in _id_rules(world):
        family = CLASSIFIED[rule.endpoint]
        if role_allowed(access_of(world.archive.app, rule.endpoint), role) \
                and role in READERS[family]:
            continue  # this role reaches these objects by design
        for values in _calls(world, family):
            url = adapter.build(rule.endpoint, {a: values[a] for a in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                res = _request(client, csrf, method, url)
                body = res.get_data(as_text=True)
                if res.status_code not in (403, 404):
                    leaks.append((rule.endpoint, method, url, res.status_code))
                shown = [w for w in world.secrets[family] if w in body]
                if shown:
                    leaks.append((rule.endpoint, method, url, "muestra", shown))
                checked += 1
    assert leaks == []
    # not vacuous: admin is refused only others' tokens and unsigned links; the others more
    assert checked >= {"admin": 2, "despacho": 20, "archivista": 30, "consulta": 40,
                       "regional": 70}[role], checked


def test_a_regional_user_reaches_its_own_unit(world: World) -> None:
    """The refusals above are about the object, not the role: its own dispatch opens."""
    client = world.archive.app.test_client()
    sign_in(client, ROLE_USERS["regional"])
    own, other = world.own_dispatch, world.foreign_dispatches[0]
    page = client.get(f"/despachos/{own}")
    assert page.status_code == 200 and "ARC-2026-000102" in page.get_data(as_text=True)
    api = world.archive.client()
    token = world.archive.headers("regional")
    got = api.get(f"{API}/dispatches/{own}", headers=token)
    assert got.status_code == 200 and got.get_json()["items"][0]["numero"] == "ARC-2026-000102"
    # another unit's dispatch: the same answer as a dispatch that does not exist
    hidden, missing = (api.get(f"{API}/dispatches/{n}", headers=token)
                       for n in (other, 99999))
    assert hidden.status_code == missing.status_code == 404
    assert error_of(hidden)[1].replace(str(other), "N") == error_of(missing)[1].replace(
        "99999", "N")
    listed = api.get(f"{API}/dispatches", headers=token).get_json()["despachos"]
    assert [d["id"] for d in listed] == [own]
    # named in a body: a return trip of another unit's dispatch, by id or by number
    number = service_view(world.archive.services, other).number
    for ref, unknown in ((other, 99999), (number, "ENV-2026-099999")):
        refused, nothing = (api.post(f"{API}/dispatches", json={"devolucion_de": r},
                                     headers=token) for r in (ref, unknown))
        assert refused.status_code == nothing.status_code == 404
        assert error_of(refused)[1].replace(str(ref), "N") == error_of(nothing)[1].replace(
            str(unknown), "N")


# ----------------------------------------------------------------------------- the reported hole

@pytest.fixture
def south(tmp_path: Path) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path, immediate=False)
    add_courier(archive.services, DESK, COURIER)
    yield archive
    archive.services.dispose()


def _same_answer(a, b, a_ref: str, b_ref: str) -> None:  # type: ignore[no-untyped-def]
    """Two refusals that differ only in the reference the caller typed."""
    assert a.status_code == b.status_code and a.status_code in (404, 422), a.get_json()
    (code_a, msg_a), (code_b, msg_b) = error_of(a), error_of(b)
    assert code_a == code_b and msg_a.replace(a_ref, "X") == msg_b.replace(b_ref, "X"), (
        msg_a, msg_b)


def test_a_regional_return_takes_only_what_its_unit_holds(south: ApiArchive) -> None:
    svc = south.services
    with session_scope(svc.sessions) as s:
        create_user(s, "u_este", "regional", password="clave-de-prueba-123",
                    regional_code="EST")
    este = Actor("u_este", Role.REGIONAL, _unit(svc, "EST"))
    sur = Actor(ROLE_USERS["regional"], Role.REGIONAL, _unit(svc, "SUR"))
    held = _doc(svc, 1, "1110001", "Croquis Sur")
    copy = _doc(svc, 2, "1110002", "Copia Sur")
    east = _doc(svc, 3, "7770001", "Croquis Este")
    register_boxes(svc, "CAJA-0001", "CAJA-0002")
    sent = _trip(svc, "SUR", sur, "G-S", [(held, True), (copy, False)], ["CAJA-0001"])
    _trip(svc, "EST", este, "G-E", [(east, True)], ["CAJA-0002"])
    number = service_view(svc, sent).number

    c, token = south.client(), south.headers("regional")
    ret = c.post(f"{API}/dispatches", json={"devolucion_de": number}, headers=token)
    assert ret.status_code == 201, ret.get_json()
    items = f"{API}/dispatches/{ret.get_json()['id']}/items"

    # a copy the unit received: allowed, with what the unit already knows of it
    ok = c.post(items, json={"documento_id": copy, "original": False}, headers=token)
    assert ok.status_code == 201 and ok.get_json()["numero"] == "ARC-2026-000002"

    # a document that went to another region: exactly as a document that does not exist
    for original in (False, True):
        foreign = c.post(items, json={"documento_id": east, "original": original}, headers=token)
        missing = c.post(items, json={"documento_id": 999999, "original": original},
                         headers=token)
        _same_answer(foreign, missing, str(east), "999999")
        body = foreign.get_data(as_text=True)
        assert "ARC-2026-000003" not in body and "7770001" not in body and "Croquis" not in body
    by_number = c.post(items, json={"numero": "ARC-2026-000003", "original": False},
                       headers=token)
    unknown = c.post(items, json={"numero": "ARC-2026-000999", "original": False},
                     headers=token)
    _same_answer(by_number, unknown, "ARC-2026-000003", "ARC-2026-000999")

    # a box at another unit: the same words as a label nobody registered
    box = c.post(items, json={"clase": "carpeta", "etiqueta": "CAJA-0002"}, headers=token)
    nobody = c.post(items, json={"clase": "carpeta", "etiqueta": "CAJA-7777"}, headers=token)
    _same_answer(box, nobody, "CAJA-0002", "CAJA-7777")
    assert "Regional Este" not in box.get_data(as_text=True)
    assert not re.search(r"ENV-\d{4}-\d{6}", error_of(box)[1])

    # the same through the web form, which reads the archive number typed or scanned
    web, csrf = south.session_client("regional")
    pages = []
    for typed in ("ARC-2026-000003", "ARC-2026-000999"):
        res = web.post(f"/despachos/{ret.get_json()['id']}/items", data={
            "csrf_token": csrf, "clase": "documento", "referencia": typed, "copia": "copia"},
            follow_redirects=True)
        text = res.get_data(as_text=True)
        assert res.status_code == 200 and f"No existe el documento {typed}" in text
        pages.append(text.replace(typed, "X"))
    assert pages[0] == pages[1]  # nothing tells a foreign document from a missing one
    assert "Croquis Este" not in pages[0] and "7770001" not in pages[0]

    # the archive side still reaches every document for its outbound dispatches
    out = c.post(f"{API}/dispatches", json={"destino": "CEN"}, headers=south.headers("despacho"))
    desk_add = c.post(f"{API}/dispatches/{out.get_json()['id']}/items",
                      json={"documento_id": east, "original": False},
                      headers=south.headers("despacho"))
    assert desk_add.status_code == 201 and desk_add.get_json()["numero"] == "ARC-2026-000003"


def test_what_a_unit_holds_follows_its_dispatches(south: ApiArchive) -> None:
    """Arrived and received: held; missing on arrival, in transit, or gone back: not."""
    svc = south.services
    sur = Actor(ROLE_USERS["regional"], Role.REGIONAL, _unit(svc, "SUR"))
    kept, lost, travelling, back = (_doc(svc, n, f"222000{n}", f"Doc {n}") for n in range(1, 5))
    copy_stays = _doc(svc, 5, "2220005", "Doc 5")
    unit = _unit(svc, "SUR")

    def holds(doc: int) -> bool:
        with session_scope(svc.sessions) as s:
            return unit_holds(s, unit, doc)

    d = service.create_dispatch(svc, DESK, "SUR")
    for doc, original in ((kept, True), (lost, True), (back, True), (copy_stays, False)):
        dispatch_items.add_document(svc, DESK, d.id, document_id=doc, original=original)
    service.prepare(svc, DESK, d.id)
    service.send(svc, DESK, d.id, courier=COURIER, guide_number="G-1")
    assert not holds(kept)  # in transit: not there yet
    service.receive(svc, sur, d.id, [service.ItemReceipt("ARC-2026-000002",
                                                         ItemOutcome.FALTANTE)])
    assert holds(kept) and holds(back) and holds(copy_stays)
    assert not holds(lost)  # reported missing: it never arrived

    _trip(svc, "SUR", sur, "G-2", [(travelling, True)], receive=False)
    assert not holds(travelling)
    ret = service.create_return(svc, sur, d.id)
    item = next(i for i in service_view(svc, ret.id).items if i.document_id == kept)
    dispatch_items.remove_item(svc, sur, ret.id, item.id)  # this one stays at the unit
    assert holds(back)  # a return still being packed has not left the unit
    service.prepare(svc, sur, ret.id)
    service.send(svc, sur, ret.id, courier=COURIER, guide_number="G-3")
    assert not holds(back)  # on its way back
    assert holds(kept) and holds(copy_stays)  # kept at the unit; the copy never travelled back
    with session_scope(svc.sessions) as s:
        assert not unit_holds(s, _unit(svc, "EST"), kept)
        assert not unit_holds(s, None, kept)
