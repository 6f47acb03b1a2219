"""The editable list of regional units; every change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import record
from archive.db import session_scope
from archive.errors import ArchivoError
from archive.models import DocumentSupply, RegionalUnit, Supply
from archive.services import Services
from archive.signals import mark_changed

_CODE = re.compile(r"^[A-Z0-9_]{2,20}$")
_LIMITS = {"name": 120, "city": 120, "address": 200, "contact": 200}
_LABELS = {"code": "código", "name": "nombre", "city": "ciudad", "address": "dirección",
           "contact": "contacto"}


@dataclass(frozen=True)
class UnitView:
    """A detached copy, usable after the session closes."""

    code: str
    name: str
    city: str
    address: str
    contact: str


def _view(u: RegionalUnit) -> UnitView:
    return UnitView(u.code, u.name, u.city, u.address, u.contact)


def _clean_code(code: str) -> str:
    c = code.strip().upper()
    if not _CODE.match(c):
        raise ArchivoError(f"«{code}» no es un código de unidad regional válido: use de 2 a 20 "
                           "letras sin tilde, dígitos o guion bajo (por ejemplo SUR).")
    return c


def _clean(field: str, value: str) -> str:
    v = " ".join(value.split())
    if len(v) > _LIMITS[field]:
        raise ArchivoError(f"El campo {_LABELS[field]} admite hasta {_LIMITS[field]} caracteres.")
    return v


def _get(session: Session, code: str) -> RegionalUnit:
    unit = session.scalar(select(RegionalUnit).where(RegionalUnit.code == code.strip().upper()))
    if unit is None:
        raise ArchivoError(f"No existe la unidad regional «{code}». Elija una de la "
                           "lista de unidades regionales.")
    return unit


def list_regional_units(services: Services) -> list[UnitView]:
    with session_scope(services.sessions) as session:
        return [_view(u) for u in session.scalars(select(RegionalUnit).order_by(RegionalUnit.code))]


def add_regional_unit(services: Services, code: str, name: str, *, city: str = "",
                      address: str = "", contact: str = "", actor: str) -> UnitView:
    code = _clean_code(code)
    name = _clean("name", name)
    if not name:
        raise ArchivoError("El nombre de la unidad regional es obligatorio.")
    with session_scope(services.sessions) as session:
        if session.scalar(select(RegionalUnit.id).where(RegionalUnit.code == code)):
            raise ArchivoError(f"Ya existe una unidad regional con el código {code}.")
        unit = RegionalUnit(code=code, name=name, city=_clean("city", city),
                            address=_clean("address", address), contact=_clean("contact", contact))
        session.add(unit)
        session.flush()
        record(session, actor, "unidad_regional_creada", "unidad_regional", code,
               {"nombre": unit.name, "ciudad": unit.city, "direccion": unit.address,
                "contacto": unit.contact})
        return _view(unit)


def update_regional_unit(services: Services, code: str, *, new_code: str | None = None,
                         name: str | None = None, city: str | None = None,
                         address: str | None = None, contact: str | None = None,
                         actor: str) -> UnitView:
    """Change the given fields; a new code reindexes the documents of the unit's supplies."""
    with session_scope(services.sessions) as session:
        unit = _get(session, code)
        wanted: dict[str, str] = {}
        if new_code is not None:
            wanted["code"] = _clean_code(new_code)
        given = (("name", name), ("city", city), ("address", address), ("contact", contact))
        for field, value in given:
            if value is not None:
                wanted[field] = _clean(field, value)
        if wanted.get("name", unit.name) == "":
            raise ArchivoError("El nombre de la unidad regional es obligatorio.")
        changes = {f: (getattr(unit, f), v) for f, v in wanted.items() if getattr(unit, f) != v}
        if not changes:
            return _view(unit)
        if "code" in changes and session.scalar(
                select(RegionalUnit.id).where(RegionalUnit.code == wanted["code"])):
            raise ArchivoError(f"Ya existe una unidad regional con el código {wanted['code']}.")
        before = unit.code
        for f, (_, v) in changes.items():
            setattr(unit, f, v)
        session.flush()
        record(session, actor, "unidad_regional_modificada", "unidad_regional", before,
               {"cambios": {_LABELS[f]: {"antes": b, "despues": a}
                            for f, (b, a) in changes.items()}})
        if "code" in changes:  # the index stores unit codes
            docs = session.scalars(select(DocumentSupply.document_id).join(
                Supply, Supply.nis == DocumentSupply.nis).where(Supply.regional_unit_id == unit.id)
                .distinct()).all()
            mark_changed(session, docs)
        return _view(unit)
