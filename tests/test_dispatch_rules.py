"""Rules around the workflow: one open dispatch per original, permissions per unit, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from archive.db import session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from dispatch import (Actor, DispatchScope, ItemKind, ItemOutcome, ItemReceipt, PermissionDenied,
                      add_document, add_folder, annul, can_create, can_manage, can_receive,
                      can_resolve, can_view, create_dispatch, create_return,
                      dispatches_for_document,
                      dispatches_for_supply, get_dispatch, list_dispatches, manifest_pdf,
                      open_discrepancies, prepare, receive, resolve_item, send)
from dispatch.models import DispatchItem
from dispatch.refs import NotFound
from tests.dispatch_helpers import (ADMIN, CONSULTA, COURIER, DESPACHO, add_doc, at,
                                    dispatch_services, doc_id, regional)
from tests.physical_helpers import register_boxes


@pytest.fixture
def svc(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = dispatch_services(tmp_path)
    yield s
    s.dispose()


def _sent(svc, doc: str, unit: str = "SUR", original: bool = True):  # type: ignore[no-untyped-def]
    d = create_dispatch(svc, DESPACHO, unit, now=at())
    add_document(svc, DESPACHO, d.id, archive_number=doc, original=original, now=at())
    prepare(svc, DESPACHO, d.id, now=at())
    return send(svc, DESPACHO, d.id, courier=COURIER, guide_number="G-1", now=at())


def test_an_original_is_never_in_two_open_dispatches(svc) -> None:  # type: ignore[no-untyped-def]
    a = add_doc(svc, 1)
    first = create_dispatch(svc, DESPACHO, "SUR", now=at())
    second = create_dispatch(svc, DESPACHO, "NOR", now=at())
    add_document(svc, DESPACHO, first.id, archive_number=a, now=at())
    with pytest.raises(ArchivoError, match="ya está en el despacho abierto ENV-2026-000001"):
        add_document(svc, DESPACHO, second.id, archive_number=a, now=at())
    copy = add_document(svc, DESPACHO, second.id, archive_number=a, original=False, now=at())
    assert copy.copy_label == "Copia"  # copies travel freely
    with pytest.raises(ArchivoError, match="ya está en el despacho ENV-2026-000001"):
        add_document(svc, DESPACHO, first.id, archive_number=a, original=False, now=at())

    register_boxes(svc, "CAJA-1")
    add_folder(svc, DESPACHO, first.id, "CAJA-1", now=at())
    with pytest.raises(ArchivoError, match="CAJA-1 ya está en el despacho abierto"):
        add_folder(svc, DESPACHO, second.id, "caja-1", now=at())

    # Annulled: the original and the box are free again.
    annul(svc, DESPACHO, first.id, "error de destino", now=at())
    third = create_dispatch(svc, DESPACHO, "EST", now=at())
    assert add_document(svc, DESPACHO, third.id, archive_number=a, now=at()).is_original
    assert add_folder(svc, DESPACHO, third.id, "CAJA-1", now=at()).label_code == "CAJA-1"


def test_an_original_away_cannot_leave_again_until_returned(svc) -> None:  # type: ignore[no-untyped-def]
    a = add_doc(svc, 1)
    d = _sent(svc, a)
    other = create_dispatch(svc, DESPACHO, "NOR", now=at())
    with pytest.raises(ArchivoError, match="en tránsito a Regional Sur"):
        add_document(svc, DESPACHO, other.id, archive_number=a, now=at())
    receive(svc, regional(svc, "SUR"), d.id, now=at(days=1))
    with pytest.raises(ArchivoError,
                       match="no está en el archivo: en Regional Sur desde el 03/03/2026"):
        add_document(svc, DESPACHO, other.id, archive_number=a, now=at(days=1))
    # A return trip of another unit cannot carry it either.
    b = add_doc(svc, 2)
    nor = _sent(svc, b, "NOR")
    receive(svc, regional(svc, "NOR"), nor.id, now=at(days=1))
    back_nor = create_return(svc, regional(svc, "NOR"), nor.id, now=at(days=2))
    with pytest.raises(ArchivoError, match="no está en Regional Norte"):
        add_document(svc, DESPACHO, back_nor.id, archive_number=a, now=at(days=2))
    with pytest.raises(ArchivoError, match="ya tiene la devolución"):
        create_return(svc, DESPACHO, nor.id, now=at(days=2))


def test_the_database_refuses_a_second_hold_even_without_the_service(svc) -> None:  # type: ignore[no-untyped-def]
    """Two concurrent transactions both passing the check still cannot both commit."""
    a = add_doc(svc, 1)
    first = create_dispatch(svc, DESPACHO, "SUR", now=at())
    second = create_dispatch(svc, DESPACHO, "NOR", now=at())
    add_document(svc, DESPACHO, first.id, archive_number=a, now=at())
    with pytest.raises(sa_exc.IntegrityError):
        with session_scope(svc.sessions) as s:
            s.add(DispatchItem(dispatch_id=second.id, kind=ItemKind.DOCUMENTO,
                               document_id=doc_id(svc, a), hold_key=f"doc:{doc_id(svc, a)}"))


UNIT_SUR, UNIT_NOR = 2, 4
OUT = DispatchScope(UNIT_SUR, is_return=False)
BACK = DispatchScope(UNIT_SUR, is_return=True)
SUR_USER = Actor("sur", Role.REGIONAL, UNIT_SUR)
NOR_USER = Actor("nor", Role.REGIONAL, UNIT_NOR)
ARCHIVISTA = Actor("arch", Role.ARCHIVISTA)


@pytest.mark.parametrize(("actor", "view", "manage", "receive_", "resolve"), [
    (ADMIN, True, True, True, True),
    (DESPACHO, True, True, False, True),
    (ARCHIVISTA, True, False, False, False),
    (CONSULTA, True, False, False, False),
    (SUR_USER, True, False, True, False),
    (NOR_USER, False, False, False, False),
    (Actor("suelto", Role.REGIONAL, None), False, False, False, False),
], ids=lambda v: v.username if isinstance(v, Actor) else None)
def test_permissions_of_an_outbound_dispatch(actor: Actor, view: bool, manage: bool,
                                             receive_: bool, resolve: bool) -> None:
    assert can_view(actor, OUT) is view
    assert can_manage(actor, OUT) is manage
    assert can_receive(actor, OUT) is receive_
    assert can_resolve(actor, OUT) is resolve


def test_permissions_of_a_return_trip() -> None:
    assert can_manage(SUR_USER, BACK) and can_create(SUR_USER, UNIT_SUR, is_return=True)
    assert not can_manage(NOR_USER, BACK) and not can_create(SUR_USER, UNIT_SUR, is_return=False)
    assert can_receive(DESPACHO, BACK) and not can_receive(SUR_USER, BACK)


def test_a_regional_user_sees_and_confirms_only_its_own_unit(svc) -> None:  # type: ignore[no-untyped-def]
    sur, nor = regional(svc, "SUR"), regional(svc, "NOR")
    a, b = add_doc(svc, 1, ("4992383",)), add_doc(svc, 2)
    to_sur, to_nor = _sent(svc, a, "SUR"), _sent(svc, b, "NOR")
    assert [d.number for d in list_dispatches(svc, sur)] == [to_sur.number]
    assert [d.number for d in list_dispatches(svc, DESPACHO)] == [to_nor.number, to_sur.number]
    # Another unit's dispatch is answered as one that does not exist (no probing of ids).
    with pytest.raises(NotFound, match=f"^No existe el despacho {to_sur.id}.$"):
        get_dispatch(svc, nor, to_sur.id)
    with pytest.raises(NotFound):
        manifest_pdf(svc, nor, to_sur.id)
    with pytest.raises(NotFound, match=f"^No existe el despacho {to_sur.id}.$"):
        receive(svc, nor, to_sur.id, now=at(days=1))
    with pytest.raises(PermissionDenied, match="confirmar la recepción"):
        receive(svc, DESPACHO, to_sur.id, now=at(days=1))  # the sender does not sign for it
    with pytest.raises(PermissionDenied, match="crear despachos"):
        create_dispatch(svc, sur, "SUR", now=at())
    with pytest.raises(PermissionDenied):
        create_dispatch(svc, CONSULTA, "SUR", now=at())
    receive(svc, sur, to_sur.id, [ItemReceipt(a, ItemOutcome.FALTANTE, "no vino")], now=at(days=1))
    assert dispatches_for_document(svc, nor, doc_id(svc, a)) == []
    assert [d.number for d in dispatches_for_supply(svc, sur, "4992383")] == [to_sur.number]
    assert [x.item.reference for x in open_discrepancies(svc, sur)] == [a]
    assert open_discrepancies(svc, nor) == []
    with pytest.raises(PermissionDenied):
        resolve_item(svc, sur, to_sur.id, a, "apareció", now=at(days=2))
    with pytest.raises(NotFound, match="No existe el despacho"):
        create_return(svc, nor, to_sur.id, now=at(days=2))
    fixed = resolve_item(svc, DESPACHO, to_sur.id, a, "apareció en la oficina", now=at(days=2))
    assert fixed.resolved and open_discrepancies(svc, DESPACHO) == []
    with pytest.raises(ArchivoError, match="ya fue resuelta"):
        resolve_item(svc, DESPACHO, to_sur.id, a, "otra vez", now=at(days=2))
    # Everything reported missing: nothing is left at the unit to return.
    with pytest.raises(ArchivoError, match="No queda nada"):
        create_return(svc, sur, to_sur.id, now=at(days=2))
