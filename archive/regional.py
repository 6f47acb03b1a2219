"""The utility's regional units: a seeded, editable list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import RegionalUnit

# Seed used by ``archivo init``; admins edit the list afterwards.
DEFAULT_UNITS: tuple[tuple[str, str, str], ...] = (
    ("CEN", "Regional Central", "Asunción"),
    ("SUR", "Regional Sur", "Encarnación"),
    ("EST", "Regional Este", "Ciudad del Este"),
    ("NOR", "Regional Norte", "Concepción"),
    ("CTR", "Regional Centro", "Coronel Oviedo"),
    ("MIS", "Regional Misiones", "San Juan Bautista"),
    ("CHA", "Regional Chaco", "Villa Hayes"),
    ("COR", "Regional Cordillera", "Caacupé"),
)


def seed_regional_units(session: Session) -> int:
    """Insert the default units that are missing; returns how many were added."""
    existing = set(session.scalars(select(RegionalUnit.code)))
    added = 0
    for code, name, city in DEFAULT_UNITS:
        if code not in existing:
            session.add(RegionalUnit(code=code, name=name, city=city))
            added += 1
    session.flush()
    return added
