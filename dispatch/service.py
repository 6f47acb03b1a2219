"""The life of a dispatch: create, prepare, reopen, send, receive, return, annul, resolve.

Each function is one unit of work: it locks the dispatch row, checks the
person's permission and the state machine, changes the row, and writes an
event plus an audit record, all in one transaction. It returns a detached
view, so the web and the CLI never hold a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.errors import ArchivoError
from archive.sequences import dispatch_number
from archive.services import Services

from .clock import (FUTURE_TOLERANCE, as_utc, fmt_date, fmt_moment, local_date, local_today,
                    moment_of_day, utcnow)
from .couriers import find_courier, transit_days_for
from .enums import Action, DispatchState, ItemOutcome
from .history import log
from .items import check_where, doc_hold, find_item, label_hold, scope_of
from .location import locate
from .models import Dispatch, DispatchItem
from .permissions import Actor, can_create, can_manage, can_receive, can_resolve, require
from .refs import DispatchRef, find_dispatch, find_unit
from .views import DEFAULT_ORIGIN, DispatchView, ItemView, dispatch_view, item_view
from .workflow import RECEIVED_STATES, check, receipt_state, targets

MAX_NOTE = 2000

# A date a person gives: a local day (``dt.date``) or an exact instant (``dt.datetime``).
GivenTime = dt.date | dt.datetime


@dataclass(frozen=True)
class ItemReceipt:
    """What the receiving side found for one item; ``item`` is its id, archive number or label."""

    item: int | str
    outcome: ItemOutcome
    note: str = ""


def _note(text: str) -> str:
    clean = text.strip()
    if len(clean) > MAX_NOTE:
        raise ArchivoError(f"La nota admite hasta {MAX_NOTE} caracteres.")
    return clean


def _release_holds(session: Session, d: Dispatch) -> None:
    """A closed dispatch no longer keeps its originals from other dispatches."""
    for item in d.items:
        item.hold_key = None


def _move(session: Session, d: Dispatch, actor: Actor, action: Action, to: DispatchState,
          at: dt.datetime, note: str, details: dict[str, object] | None = None) -> None:
    before = d.state
    d.state = to
    log(session, d, actor, action.value, from_state=before, at=at, note=note, details=details)


def create_dispatch(services: Services, actor: Actor, destination: str | int, *,
                    origin: str | None = None, notes: str = "",
                    now: dt.datetime | None = None) -> DispatchView:
    """A new draft to a regional unit (code, name or id), numbered ENV-AAAA-NNNNNN."""
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        unit = find_unit(session, destination)
        require(can_create(actor, unit.id, is_return=False), "crear despachos")
        origin_text = " ".join((origin or DEFAULT_ORIGIN).split())
        if not origin_text or len(origin_text) > 200:
            raise ArchivoError("El origen debe tener de 1 a 200 caracteres.")
        d = Dispatch(number=dispatch_number(session, local_date(at)), origin=origin_text,
                     regional_unit=unit, regional_unit_id=unit.id, notes=_note(notes),
                     state=DispatchState.BORRADOR, created_at=at, created_by=actor.username)
        session.add(d)
        session.flush()
        log(session, d, actor, "crear", from_state=None, at=at,
            details={"destino": unit.code})
        return dispatch_view(d)


def create_return(services: Services, actor: Actor, original: DispatchRef, *,
                  include_copies: bool = False, notes: str = "",
                  now: dt.datetime | None = None) -> DispatchView:
    """A draft return trip of a received dispatch, with the originals still at the unit.

    Copies stay at the unit unless ``include_copies``; items reported missing
    never arrived and are left out. At most one return trip (not annulled)
    per dispatch; when it is received, the dispatch becomes ``devuelto``.
    """
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        out = find_dispatch(session, actor, original, for_update=True)
        require(can_create(actor, out.regional_unit_id, is_return=True),
                f"crear la devolución del despacho {out.number}")
        if out.is_return:
            raise ArchivoError(f"El despacho {out.number} ya es una devolución.")
        if out.state not in (DispatchState.RECIBIDO, DispatchState.RECIBIDO_CON_OBSERVACIONES):
            raise ArchivoError(f"Solo se devuelve un despacho recibido; {out.number} está "
                               f"«{out.state.label}».")
        existing = session.scalar(select(Dispatch.number).where(
            Dispatch.return_of_id == out.id, Dispatch.state != DispatchState.ANULADO))
        if existing:
            raise ArchivoError(f"El despacho {out.number} ya tiene la devolución {existing}.")
        ret = Dispatch(number=dispatch_number(session, local_date(at)),
                       origin=out.regional_unit.name, regional_unit=out.regional_unit,
                       regional_unit_id=out.regional_unit_id, return_of=out,
                       notes=_note(notes), state=DispatchState.BORRADOR, created_at=at,
                       created_by=actor.username)
        session.add(ret)
        session.flush()
        for it in out.items:
            if it.outcome is ItemOutcome.FALTANTE or not (it.is_original or include_copies):
                continue
            hold = None
            if it.is_original and it.document_id is not None:
                if not _still_there(session, ret, document_id=it.document_id):
                    continue
                hold = doc_hold(it.document_id)
            elif it.label_code is not None:
                if not _still_there(session, ret, label_code=it.label_code):
                    continue
                hold = label_hold(it.label_code)
            ret.items.append(DispatchItem(
                kind=it.kind, document_id=it.document_id, label_code=it.label_code,
                description=it.description, sheets=it.sheets, is_original=it.is_original,
                hold_key=hold, added_at=at, added_by=actor.username))
        if not ret.items:
            raise ArchivoError(f"No queda nada del despacho {out.number} en "
                               f"{out.regional_unit.name} para devolver.")
        session.flush()
        log(session, ret, actor, "crear", from_state=None, at=at,
            note=f"Devolución del despacho {out.number}",
            details={"devolucion_de": out.number, "items": len(ret.items)})
        return dispatch_view(ret)


def _still_there(session: Session, ret: Dispatch, **what: object) -> bool:
    try:
        check_where(ret, "", locate(session, **what))  # type: ignore[arg-type]
    except ArchivoError:
        return False
    return True


def prepare(services: Services, actor: Actor, ref: DispatchRef, *, note: str = "",
            now: dt.datetime | None = None) -> DispatchView:
    """Manifest printed, package closed: the contents are fixed from here on."""
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_manage(actor, scope_of(d)), f"preparar el despacho {d.number}")
        to = check(d.state, Action.PREPARAR, number=d.number, is_return=d.is_return)
        if not d.items:
            raise ArchivoError(f"El despacho {d.number} no tiene ítems; agregue al menos uno "
                               "antes de prepararlo.")
        d.prepared_at = at
        _move(session, d, actor, Action.PREPARAR, to, at, _note(note))
        return dispatch_view(d)


def reopen(services: Services, actor: Actor, ref: DispatchRef, *, note: str = "",
           now: dt.datetime | None = None) -> DispatchView:
    """Back to draft to change the contents; the printed manifest is void."""
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_manage(actor, scope_of(d)), f"reabrir el despacho {d.number}")
        to = check(d.state, Action.REABRIR, number=d.number, is_return=d.is_return)
        d.prepared_at = None
        _move(session, d, actor, Action.REABRIR, to, at, _note(note))
        return dispatch_view(d)


def _checked_time(given: GivenTime | None, *, what: str, after: dt.datetime,
                  after_what: str, at: dt.datetime) -> dt.datetime:
    """The UTC instant of a handover or receipt, refused when it cannot be true.

    ``given`` may be a local day (stored on that day, see ``moment_of_day``)
    or an instant; nothing happens before ``after`` (what came before it in
    the dispatch's life) nor in the future beyond a small clock tolerance.
    """
    if given is None:
        return max(at, as_utc(after))
    if isinstance(given, dt.datetime):
        moment = as_utc(given)
        future, before = moment > at + FUTURE_TOLERANCE, moment < as_utc(after)
        shown_after = fmt_moment(as_utc(after))
    else:
        moment = moment_of_day(given, earliest=after, now=at)
        future, before = given > local_today(at), given < local_date(after)
        shown_after = fmt_date(after)
    if future:
        raise ArchivoError(f"La fecha de {what} ({fmt_moment(given)}) no puede ser futura.")
    if before:
        raise ArchivoError(f"La fecha de {what} ({fmt_moment(given)}) es anterior {after_what} "
                           f"({shown_after}); revise el día.")
    return moment


def send(services: Services, actor: Actor, ref: DispatchRef, *, courier: str,
         guide_number: str, sent_at: GivenTime | None = None,
         expected_delivery: dt.date | None = None, note: str = "",
         now: dt.datetime | None = None) -> DispatchView:
    """Handed to the courier. The expected delivery defaults to the sent day plus the
    unit's transit days and is stored, so a later change of the deadline moves nothing.

    ``sent_at`` is a local day or an instant (default: now); it cannot precede the
    preparation (or creation) of the dispatch nor lie in the future.
    """
    at = as_utc(now or utcnow())
    guide = " ".join(guide_number.split())
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_manage(actor, scope_of(d)), f"enviar el despacho {d.number}")
        to = check(d.state, Action.ENVIAR, number=d.number, is_return=d.is_return)
        if not guide or len(guide) > 60:
            raise ArchivoError("Indique el número de guía del servicio de encomiendas "
                               "(hasta 60 caracteres).")
        c = find_courier(session, courier)
        if d.prepared_at is not None:
            after, after_what = d.prepared_at, f"a la preparación del despacho {d.number}"
        else:
            after, after_what = d.created_at, f"a la creación del despacho {d.number}"
        handed = _checked_time(sent_at, what="envío", after=after, after_what=after_what, at=at)
        day = local_date(handed)
        expected = expected_delivery or day + dt.timedelta(
            days=transit_days_for(session, d.regional_unit_id))
        if expected < day:
            raise ArchivoError(f"La entrega prevista ({fmt_date(expected)}) no puede ser "
                               f"anterior al envío ({fmt_date(day)}).")
        d.courier, d.courier_id, d.guide_number = c, c.id, guide
        d.sent_at, d.expected_delivery = handed, expected
        _move(session, d, actor, Action.ENVIAR, to, at, _note(note),
              {"transportista": c.name, "guia": guide, "entrega_prevista": expected.isoformat()})
        return dispatch_view(d)


def receive(services: Services, actor: Actor, ref: DispatchRef,
            receipts: Iterable[ItemReceipt] = (), *, note: str = "",
            received_at: GivenTime | None = None,
            now: dt.datetime | None = None) -> DispatchView:
    """The receiving side confirms each item; items not listed arrived as sent.

    Any missing or damaged item makes it ``recibido_con_observaciones`` and
    stays a discrepancy until resolved. The receipt of a return trip marks
    its original dispatch ``devuelto``. ``received_at`` (a local day or an
    instant, default now) cannot precede the handover nor lie in the future.
    """
    at = as_utc(now or utcnow())
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_receive(actor, scope_of(d)), f"confirmar la recepción del despacho {d.number}")
        targets(d.state, Action.RECIBIR, number=d.number, is_return=d.is_return)
        assert d.sent_at is not None  # only a sent dispatch can be received
        arrived = _checked_time(received_at, what="recepción", after=d.sent_at,
                                after_what=f"al envío del despacho {d.number}", at=at)
        found: dict[int, ItemReceipt] = {}
        for r in receipts:
            item = find_item(d, r.item)
            if item.id in found:
                raise ArchivoError(f"El ítem «{r.item}» figura dos veces en la recepción.")
            found[item.id] = r
        for item in d.items:
            told = found.get(item.id)
            item.outcome = told.outcome if told else ItemOutcome.RECIBIDO
            item.outcome_note = _note(told.note) if told else ""
            item.resolved = False
        d.received_at = arrived
        _release_holds(session, d)
        to = receipt_state(i.outcome for i in d.items if i.outcome is not None)
        problems = sum(1 for i in d.items if i.is_discrepancy)
        _move(session, d, actor, Action.RECIBIR, to, at, _note(note),
              {"observaciones": problems})
        if d.return_of is not None:
            out = d.return_of
            session.refresh(out, with_for_update=True)
            back = check(out.state, Action.DEVOLVER, number=out.number)
            _move(session, out, actor, Action.DEVOLVER, back, at,
                  f"Devolución {d.number} recibida", {"devolucion": d.number})
        return dispatch_view(d)


def annul(services: Services, actor: Actor, ref: DispatchRef, reason: str, *,
          now: dt.datetime | None = None) -> DispatchView:
    """Only before it leaves; the number is kept (never reused) with the reason."""
    at = as_utc(now or utcnow())
    why = _note(reason)
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_manage(actor, scope_of(d)), f"anular el despacho {d.number}")
        to = check(d.state, Action.ANULAR, number=d.number, is_return=d.is_return)
        if not why:
            raise ArchivoError("Indique el motivo de la anulación.")
        d.annul_reason = why
        _release_holds(session, d)
        _move(session, d, actor, Action.ANULAR, to, at, why)
        return dispatch_view(d)


def resolve_item(services: Services, actor: Actor, ref: DispatchRef, item: int | str,
                 note: str, *, now: dt.datetime | None = None) -> ItemView:
    """Close a discrepancy (missing or damaged item) with what was done about it."""
    at = as_utc(now or utcnow())
    text = _note(note)
    with session_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref, for_update=True)
        require(can_resolve(actor, scope_of(d)), f"resolver observaciones del despacho {d.number}")
        it = find_item(d, item)
        if d.state not in RECEIVED_STATES or not it.is_discrepancy:
            raise ArchivoError(f"El ítem «{item}» del despacho {d.number} no tiene una "
                               "observación de recepción (faltante o dañado).")
        if it.resolved:
            raise ArchivoError(f"La observación del ítem «{item}» ya fue resuelta.")
        if not text:
            raise ArchivoError("Indique cómo se resolvió la observación.")
        it.resolved, it.resolved_at, it.resolved_by, it.resolution_note = (
            True, at, actor.username, text)
        log(session, d, actor, "resolver_item", from_state=d.state, at=at,
            note=f"{item_view(it).reference}: {text}", details={"item": it.id})
        return item_view(it)
