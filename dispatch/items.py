"""The contents of a dispatch: add and remove items while it is a draft.

An original (document or labelled folder/box) may be added only where it
physically is: on the archive's shelf for an outbound dispatch, at the
sending unit for a return trip. Its ``hold_key`` then keeps it out of every
other open dispatch until this one closes. An outbound folder or box must
also be registered in the physical archive and wholly on the shelf (nothing
in it lent or travelling on its own), so the package matches the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import fmt_date
from archive.models import Document
from archive.physical import (Folder, chain, folders_within, levels, node_label, open_loan,
                              open_loans_within)
from archive.physical import Location as ShelfNode
from archive.physical.codes import FOLDER_PREFIX
from archive.services import Services

from .clock import as_utc, utcnow
from .enums import DispatchState, ItemKind, ItemOutcome
from .history import log
from .location import AT_UNIT, IN_ARCHIVE, IN_TRANSIT, RESERVED, Location, locate
from .models import Dispatch, DispatchItem
from .permissions import Actor, DispatchScope, can_manage, require
from . import refs
from .refs import DispatchRef, NotFound, find_dispatch, find_document, label_code
from .views import ItemView, item_view
from .workflow import check_editable

MAX_SHEETS = 100_000


def scope_of(d: Dispatch) -> DispatchScope:
    return DispatchScope(d.regional_unit_id, d.is_return)


def doc_hold(document_id: int) -> str:
    return f"doc:{document_id}"


def label_hold(code: str) -> str:
    return f"label:{code}"


def _editable(session: Session, actor: Actor, ref: DispatchRef) -> Dispatch:
    d = find_dispatch(session, actor, ref, for_update=True)
    require(can_manage(actor, scope_of(d)), f"modificar el despacho {d.number}")
    check_editable(d.state, d.number)
    return d


def check_where(d: Dispatch, what: str, where: Location) -> None:
    """Refuse an original that is not where this dispatch leaves from."""
    if where.status == RESERVED or where.status == IN_TRANSIT:
        raise ArchivoError(f"El original {what} ya está en el despacho abierto "
                           f"{where.dispatch_number}: {where.text}. Un original no puede estar "
                           "en dos despachos abiertos.")
    if d.is_return:
        if where.status != AT_UNIT or where.regional_unit_id != d.regional_unit_id:
            raise ArchivoError(f"El original {what} no está en {d.regional_unit.name} "
                               f"({where.text}); no se puede incluir en esta devolución.")
    elif where.status == AT_UNIT:
        raise ArchivoError(f"El original {what} no está en el archivo: {where.text}. Vuelve "
                           "con una devolución de esa unidad.")


def _check_where_for(actor: Actor, d: Dispatch, what: str, where: Location) -> None:
    """``check_where``, but a regional user is never told where an original outside its
    unit is (another unit, another dispatch): only that it is not at its unit."""
    if actor.role is Role.REGIONAL and where.regional_unit_id != d.regional_unit_id:
        raise ArchivoError(f"El original {what} no está en {d.regional_unit.name}; no se "
                           "puede incluir en esta devolución.")
    check_where(d, what, where)


_ARRIVED = (DispatchState.RECIBIDO, DispatchState.RECIBIDO_CON_OBSERVACIONES,
            DispatchState.DEVUELTO)
_STILL_AT_UNIT = (DispatchState.BORRADOR, DispatchState.PREPARADO)


def unit_holds(session: Session, regional_unit_id: int | None, document_id: int) -> bool:
    """Whether a regional unit has the document (original or copy): it arrived in a
    dispatch the unit received and has not left again in one of its return trips.

    Original and copy are followed apart, in item order (their time order): a
    received outbound item brings one, a return trip that has left takes it away.
    """
    if regional_unit_id is None:
        return False
    rows = session.execute(
        select(DispatchItem.is_original, DispatchItem.outcome, Dispatch.return_of_id,
               Dispatch.state)
        .join(Dispatch, Dispatch.id == DispatchItem.dispatch_id)
        .where(DispatchItem.document_id == document_id,
               Dispatch.regional_unit_id == regional_unit_id,
               Dispatch.state != DispatchState.ANULADO)
        .order_by(DispatchItem.id))
    held = {True: False, False: False}
    for is_original, outcome, return_of_id, state in rows:
        if return_of_id is None:
            if state in _ARRIVED and outcome is not ItemOutcome.FALTANTE:
                held[is_original] = True
        elif state not in _STILL_AT_UNIT:
            held[is_original] = False
    return held[True] or held[False]


def reachable_documents(session: Session, actor: Actor) -> Callable[[Document], bool] | None:
    """The archive side reaches every document; a regional user only what its unit holds
    (None: no restriction)."""
    if actor.role is not Role.REGIONAL:
        return None
    return lambda doc: unit_holds(session, actor.regional_unit_id, doc.id)


def _hold_taken(key: str) -> None:
    """The unique hold caught a concurrent dispatch that took the same original first."""
    raise ArchivoError("Otro despacho abierto acaba de tomar el mismo original "
                       f"({key.split(':', 1)[1]}); actualice y vuelva a intentar.")


def _add(session: Session, d: Dispatch, item: DispatchItem, actor: Actor, at: dt.datetime,
         what: str) -> ItemView:
    item.added_at, item.added_by = at, actor.username
    d.items.append(item)
    try:
        with session.begin_nested():
            session.flush()
    except sa_exc.IntegrityError:
        _hold_taken(item.hold_key or what)
    log(session, d, actor, "agregar_item", from_state=d.state, at=at, note=what,
        details={"item": item.id, "original": item.is_original})
    return item_view(item)


def add_document(services: Services, actor: Actor, ref: DispatchRef, *,
                 archive_number: str | None = None, document_id: int | None = None,
                 original: bool = True, now: dt.datetime | None = None) -> ItemView:
    """Add an archived document by archive number (typed or scanned) or id, original or copy."""
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        d = _editable(session, actor, ref)
        doc: Document = find_document(session, archive_ref=archive_number, document_id=document_id,
                                      visible=reachable_documents(session, actor))
        if any(i.document_id == doc.id for i in d.items):
            raise ArchivoError(f"El documento {doc.archive_number} ya está en el despacho "
                               f"{d.number}.")
        hold = None
        if original:
            _check_where_for(actor, d, doc.archive_number, locate(session, document_id=doc.id))
            hold = doc_hold(doc.id)
        item = DispatchItem(kind=ItemKind.DOCUMENTO, document_id=doc.id, document=doc,
                            is_original=original, hold_key=hold)
        label = "original" if original else "copia"
        return _add(session, d, item, actor, at, f"{doc.archive_number} ({label})")


def _check_shelf(session: Session, d: Dispatch, code: str) -> None:
    """An outbound label must name a registered folder or box that is all on the shelf.

    Refused: an unknown code (a typo would send an unrecorded package), a lent
    folder, a box holding a lent folder or a folder travelling on its own, a
    folder whose box travels. A return trip starts at the unit, where those
    shelf rules do not apply (``check_where`` already asks for the label there).
    """
    if d.is_return:
        return
    folder = session.scalar(select(Folder).where(Folder.code == code))
    box = None if folder is not None else session.scalar(
        select(ShelfNode).where(ShelfNode.code == code))
    if folder is None and box is None:
        raise ArchivoError(f"{_unregistered(session, code)} no está registrada en el archivo "
                           "físico: regístrela con su ubicación antes de despacharla, o revise "
                           "el código de la etiqueta.")
    if folder is not None:
        _check_folder(session, folder)
    else:
        assert box is not None
        _check_box(session, box)


def _unregistered(session: Session, code: str) -> str:
    """"La caja CAJA-9999", guessed from the code's prefix, for the refusal."""
    if code.startswith(FOLDER_PREFIX + "-"):
        return f"La carpeta {code}"
    for level in levels(session):
        if level.code_prefix and code.startswith(level.code_prefix + "-"):
            name = level.name.lower()
            return f"{'La' if name.endswith('a') else 'El'} {name} {code}"
    return f"La carpeta o caja {code}"


def _check_folder(session: Session, folder: Folder) -> None:
    loan = open_loan(session, folder)
    if loan is not None:
        raise ArchivoError(f"La carpeta {folder.code} está prestada a {loan.borrower} desde el "
                           f"{fmt_date(loan.lent_at)}; regístrela como devuelta antes de "
                           "despacharla.")
    for node in reversed(chain(folder.location)):
        where = locate(session, label_code=node.code)
        if where.status != IN_ARCHIVE:
            raise ArchivoError(f"La carpeta {folder.code} está dentro de {node_label(node)}, "
                               f"que está {where.text}; no se puede despachar aparte.")


def _check_box(session: Session, box: ShelfNode) -> None:
    what = node_label(box)
    lent = open_loans_within(session, box)
    if lent:
        loan = lent[0]
        raise ArchivoError(f"No se puede despachar {what}: la carpeta {loan.folder.code} de esa "
                           f"caja está prestada a {loan.borrower} desde el "
                           f"{fmt_date(loan.lent_at)}. Registre su devolución antes de "
                           "despachar la caja.")
    for folder in folders_within(session, box):
        where = locate(session, label_code=folder.code)
        if where.status != IN_ARCHIVE:
            raise ArchivoError(f"No se puede despachar {what}: la carpeta {folder.code} de esa "
                               f"caja está {where.text}.")
    for node in reversed(chain(box.parent)):
        where = locate(session, label_code=node.code)
        if where.status != IN_ARCHIVE:
            raise ArchivoError(f"No se puede despachar {what}: está dentro de "
                               f"{node_label(node)}, que está {where.text}.")


def add_folder(services: Services, actor: Actor, ref: DispatchRef, label: str, *,
               description: str = "", sheets: int | None = None,
               now: dt.datetime | None = None) -> ItemView:
    """Add a physical folder or box by the code on its label (always an original)."""
    at = as_utc(now or utcnow())
    code = label_code(label)
    with session_scope(services.sessions) as session:
        d = _editable(session, actor, ref)
        _check_shelf(session, d, code)
        if any(i.label_code == code for i in d.items):
            raise ArchivoError(f"La carpeta o caja {code} ya está en el despacho {d.number}.")
        _check_where_for(actor, d, code, locate(session, label_code=code))
        item = DispatchItem(kind=ItemKind.CARPETA, label_code=code, is_original=True,
                            description=_text(description, required=False),
                            sheets=_sheets(sheets), hold_key=label_hold(code))
        return _add(session, d, item, actor, at, f"carpeta o caja {code}")


def add_text(services: Services, actor: Actor, ref: DispatchRef, description: str, *,
             sheets: int | None, original: bool = True,
             now: dt.datetime | None = None) -> ItemView:
    """Add something described in words ("antecedentes del reclamo"), with its sheet count."""
    at = as_utc(now or utcnow())
    text = _text(description, required=True)
    if sheets is None:
        raise ArchivoError("Indique la cantidad de fojas del ítem.")
    with session_scope(services.sessions) as session:
        d = _editable(session, actor, ref)
        item = DispatchItem(kind=ItemKind.TEXTO, description=text, sheets=_sheets(sheets),
                            is_original=original)
        return _add(session, d, item, actor, at, text)


def remove_item(services: Services, actor: Actor, ref: DispatchRef, item_id: int, *,
                now: dt.datetime | None = None) -> None:
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        d = _editable(session, actor, ref)
        item = next((i for i in d.items if i.id == item_id), None)
        if item is None:
            raise NotFound(f"El despacho {d.number} no tiene el ítem {item_id}.")
        what = item_view(item).reference
        d.items.remove(item)
        session.flush()
        log(session, d, actor, "quitar_item", from_state=d.state, at=at, note=what,
            details={"item": item_id})


def find_item(d: Dispatch, key: str | int) -> DispatchItem:
    """By item id, archive number, label code or the exact description of a free-text item:
    what a person reads off the paper."""
    if isinstance(key, int) or str(key).strip().isdigit():
        found = [i for i in d.items if i.id == int(key)]
    else:
        text = " ".join(str(key).split())
        number = refs.archive_number(text)
        found = [i for i in d.items if (number and i.document is not None
                                        and i.document.archive_number == number)
                 or i.label_code == text.upper()]
        if not found:
            found = [i for i in d.items
                     if i.kind is ItemKind.TEXTO and i.description.lower() == text.lower()]
    if not found:
        raise NotFound(f"El despacho {d.number} no tiene el ítem «{key}».")
    if len(found) > 1:
        raise ArchivoError(f"Varios ítems del despacho {d.number} coinciden con «{key}»; "
                           "indique el número de ítem.")
    return found[0]


def _text(text: str, *, required: bool) -> str:
    clean = " ".join(text.split())
    if required and not clean:
        raise ArchivoError("Describa el ítem (por ejemplo «antecedentes del reclamo»).")
    if len(clean) > 300:
        raise ArchivoError("La descripción del ítem admite hasta 300 caracteres.")
    return clean


def _sheets(sheets: int | None) -> int | None:
    if sheets is not None and not 0 <= sheets <= MAX_SHEETS:
        raise ArchivoError(f"La cantidad de fojas debe estar entre 0 y {MAX_SHEETS}.")
    return sheets


__all__ = ["add_document", "add_folder", "add_text", "remove_item", "find_item", "check_where",
           "doc_hold", "label_hold", "scope_of", "unit_holds", "reachable_documents"]
