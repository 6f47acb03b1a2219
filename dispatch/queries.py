"""Reading dispatches: one, lists with filters, per document or supply, open discrepancies.

Every function takes the acting person and shows a ``regional`` user only
its own unit's dispatches, so no caller can forget the rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from archive.db import read_scope
from archive.enums import Role
from archive.models import DocumentSupply
from archive.services import Services

from .clock import local_midnight, local_today
from .enums import DispatchState, ItemOutcome
from .items import scope_of
from .location import Location, locate
from .models import Courier, Dispatch, DispatchItem
from .permissions import Actor, can_view, require
from .refs import DispatchRef, find_dispatch, find_unit, parse_state
from .views import DispatchView, ItemView, dispatch_view, item_view

DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class Discrepancy:
    """A missing or damaged item not yet resolved, for the dashboard."""

    dispatch_id: int
    dispatch_number: str
    regional_unit_code: str
    received_at: dt.datetime | None
    item: ItemView


def _visible(query: Select[Any], actor: Actor) -> Select[Any]:
    if actor.role is Role.REGIONAL:
        return query.where(Dispatch.regional_unit_id == (actor.regional_unit_id or -1))
    return query


def _loaded(query: Select[Any]) -> Select[Any]:
    return query.options(selectinload(Dispatch.regional_unit), selectinload(Dispatch.courier),
                         selectinload(Dispatch.return_of),
                         selectinload(Dispatch.items).selectinload(DispatchItem.document))


def get_dispatch(services: Services, actor: Actor, ref: DispatchRef) -> DispatchView:
    """With items and events; refuses (PermissionDenied) a regional user of another unit."""
    with read_scope(services.sessions) as session:
        d = find_dispatch(session, actor, ref)
        require(can_view(actor, scope_of(d)), f"ver el despacho {d.number}")
        return dispatch_view(d)


def list_dispatches(services: Services, actor: Actor, *,
                    state: DispatchState | str | None = None,
                    destination: str | int | None = None, courier: str | None = None,
                    date_from: dt.date | None = None, date_to: dt.date | None = None,
                    overdue_only: bool = False, returns: bool | None = None,
                    today: dt.date | None = None, limit: int = DEFAULT_LIMIT,
                    offset: int = 0) -> list[DispatchView]:
    """Newest first. Dates filter the creation day; ``overdue_only`` keeps sent dispatches
    past their expected delivery as of ``today``."""
    with read_scope(services.sessions) as session:
        query = _visible(_loaded(select(Dispatch)), actor)
        if state:
            query = query.where(Dispatch.state == parse_state(str(state)))
        if destination is not None and destination != "":
            query = query.where(Dispatch.regional_unit_id == find_unit(session, destination).id)
        if courier:
            query = query.join(Courier, Courier.id == Dispatch.courier_id).where(
                func.lower(Courier.name) == " ".join(courier.split()).lower())
        if date_from is not None:
            query = query.where(Dispatch.created_at >= local_midnight(date_from))
        if date_to is not None:
            end = local_midnight(date_to + dt.timedelta(days=1))
            query = query.where(Dispatch.created_at < end)
        if returns is not None:
            query = query.where(Dispatch.return_of_id.is_not(None) if returns
                                else Dispatch.return_of_id.is_(None))
        if overdue_only:
            query = query.where(Dispatch.state == DispatchState.ENVIADO,
                                Dispatch.expected_delivery < (today or local_today()))
        query = query.order_by(Dispatch.id.desc()).limit(limit).offset(offset)
        return [dispatch_view(d, full=False) for d in session.scalars(query)]


def _with_items(session: Session, actor: Actor, item_filter: object) -> list[DispatchView]:
    ids = select(DispatchItem.dispatch_id).where(item_filter)  # type: ignore[arg-type]
    query = _visible(_loaded(select(Dispatch)).where(Dispatch.id.in_(ids)), actor)
    return [dispatch_view(d) for d in session.scalars(query.order_by(Dispatch.id))]


def dispatches_for_document(services: Services, actor: Actor,
                            document_id: int) -> list[DispatchView]:
    """Every dispatch that carried the document (original or copy), oldest first."""
    with read_scope(services.sessions) as session:
        return _with_items(session, actor, DispatchItem.document_id == document_id)


def dispatches_for_supply(services: Services, actor: Actor, nis: str) -> list[DispatchView]:
    """Every dispatch that carried a document of the supply, oldest first."""
    with read_scope(services.sessions) as session:
        docs = select(DocumentSupply.document_id).where(DocumentSupply.nis == nis.strip())
        return _with_items(session, actor, DispatchItem.document_id.in_(docs))


def where_is(services: Services, *, document_id: int | None = None,
             label_code: str | None = None) -> Location:
    """Where the original is now ("en tránsito a Regional Sur", "en Regional Sur desde ...")."""
    with read_scope(services.sessions) as session:
        return locate(session, document_id=document_id, label_code=label_code)


def open_discrepancies(services: Services, actor: Actor) -> list[Discrepancy]:
    """Missing or damaged items not yet resolved, oldest receipt first (for the dashboard)."""
    with read_scope(services.sessions) as session:
        query = (select(DispatchItem).join(Dispatch, Dispatch.id == DispatchItem.dispatch_id)
                 .where(DispatchItem.outcome.in_([ItemOutcome.FALTANTE, ItemOutcome.DANADO]),
                        DispatchItem.resolved.is_(False))
                 .options(selectinload(DispatchItem.document), selectinload(DispatchItem.dispatch))
                 .order_by(Dispatch.received_at, DispatchItem.id))
        if actor.role is Role.REGIONAL:
            query = query.where(Dispatch.regional_unit_id == (actor.regional_unit_id or -1))
        out = []
        for it in session.scalars(query):
            d = it.dispatch
            out.append(Discrepancy(d.id, d.number, d.regional_unit.code, d.received_at,
                                   item_view(it)))
        return out
