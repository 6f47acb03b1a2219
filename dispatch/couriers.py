"""The editable lists behind a dispatch: courier services and transit days per unit.

Both are tables, not settings: the section changes couriers and deadlines
from the web or the CLI without restarting anything, and old dispatches keep
naming the courier that carried them (couriers are deactivated, not deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import record
from archive.db import read_scope, session_scope
from archive.errors import ArchivoError
from archive.models import RegionalUnit
from archive.services import Services

from .clock import utcnow
from .models import Courier, TransitDays
from .permissions import ARCHIVE_SIDE, Actor, require
from .refs import UnknownInput, find_unit

# Calendar days a package may take when nobody configured its destination.
DEFAULT_TRANSIT_DAYS = 3
MAX_TRANSIT_DAYS = 365


@dataclass(frozen=True)
class CourierView:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class TransitView:
    unit_code: str
    unit_name: str
    days: int
    configured: bool  # False: the default applies


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > 80:
        raise ArchivoError("El nombre del servicio de encomiendas debe tener de 1 a 80 caracteres.")
    return clean


def find_courier(session: Session, name: str, *, active_only: bool = True) -> Courier:
    clean = " ".join(name.split())
    courier = session.scalar(select(Courier).where(func.lower(Courier.name) == clean.lower()))
    if courier is None or (active_only and not courier.active):
        names = session.scalars(select(Courier.name).where(Courier.active)
                                .order_by(Courier.name)).all()
        known = ("Servicios habilitados: " + ", ".join(names) + ".") if names else (
            "No hay servicios de encomiendas habilitados: Despacho los agrega en la "
            "configuración de despachos.")
        state = "no está habilitado" if courier is not None else "no existe"
        raise UnknownInput(f"El servicio de encomiendas «{clean}» {state}. {known}")
    return courier


def list_couriers(services: Services, *, include_inactive: bool = False) -> list[CourierView]:
    with read_scope(services.sessions) as session:
        query = select(Courier).order_by(Courier.name)
        if not include_inactive:
            query = query.where(Courier.active)
        return [CourierView(c.id, c.name, c.active) for c in session.scalars(query)]


def add_courier(services: Services, actor: Actor, name: str) -> CourierView:
    require(actor.role in ARCHIVE_SIDE, "administrar los servicios de encomiendas")
    clean = _clean_name(name)
    with session_scope(services.sessions) as session:
        existing = session.scalar(select(Courier).where(func.lower(Courier.name) == clean.lower()))
        if existing is not None:
            raise ArchivoError(f"El servicio de encomiendas «{existing.name}» ya existe.")
        courier = Courier(name=clean, active=True, created_at=utcnow())
        session.add(courier)
        session.flush()
        record(session, actor.username, "despacho.transportista_agregado", "transportista",
               courier.id, {"nombre": clean})
        return CourierView(courier.id, courier.name, courier.active)


def set_courier_active(services: Services, actor: Actor, name: str, active: bool) -> CourierView:
    require(actor.role in ARCHIVE_SIDE, "administrar los servicios de encomiendas")
    with session_scope(services.sessions) as session:
        courier = find_courier(session, name, active_only=False)
        if courier.active != active:
            courier.active = active
            record(session, actor.username, "despacho.transportista_" +
                   ("habilitado" if active else "deshabilitado"), "transportista", courier.id,
                   {"nombre": courier.name})
        return CourierView(courier.id, courier.name, courier.active)


def transit_days_for(session: Session, regional_unit_id: int) -> int:
    row = session.get(TransitDays, regional_unit_id)
    return row.days if row is not None else DEFAULT_TRANSIT_DAYS


def list_transit_days(services: Services) -> list[TransitView]:
    with read_scope(services.sessions) as session:
        configured = {t.regional_unit_id: t.days for t in session.scalars(select(TransitDays))}
        units = session.scalars(select(RegionalUnit).order_by(RegionalUnit.code))
        return [TransitView(u.code, u.name, configured.get(u.id, DEFAULT_TRANSIT_DAYS),
                            u.id in configured) for u in units]


def set_transit_days(services: Services, actor: Actor, unit: str, days: int) -> TransitView:
    """Applies to dispatches sent from now on; a sent dispatch keeps the date it was given."""
    require(actor.role in ARCHIVE_SIDE, "cambiar los plazos de entrega")
    if not 0 <= days <= MAX_TRANSIT_DAYS:
        raise ArchivoError(f"El plazo debe estar entre 0 y {MAX_TRANSIT_DAYS} días.")
    with session_scope(services.sessions) as session:
        u = find_unit(session, unit)
        row = session.get(TransitDays, u.id)
        before = row.days if row is not None else None
        if row is None:
            row = TransitDays(regional_unit_id=u.id, days=days)
            session.add(row)
        row.days, row.updated_at, row.updated_by = days, utcnow(), actor.username
        session.flush()
        record(session, actor.username, "despacho.plazo_modificado", "unidad_regional", u.code,
               {"antes": before, "despues": days})
        return TransitView(u.code, u.name, days, True)
