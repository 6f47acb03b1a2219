"""Where a physical original is now, from its latest movement.

An original moves only inside dispatches, and cannot be in two open ones, so
its dispatch items ordered by id are its movements in time order. Annulled
dispatches never moved anything and are skipped. Copies do not move the
original; folders and boxes (by label) are always physical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import fmt_date
from .enums import DispatchState, ItemOutcome
from .models import Dispatch, DispatchItem
from .views import destination_label

IN_ARCHIVE = "archivo"
RESERVED = "reservado"
IN_TRANSIT = "en_transito"
AT_UNIT = "en_regional"
MISSING = "faltante"


@dataclass(frozen=True)
class Location:
    status: str  # one of the constants above
    text: str  # Spanish, for the document page: "en tránsito a Regional Sur"
    dispatch_id: int | None = None
    dispatch_number: str = ""
    regional_unit_id: int | None = None  # set while the original is at or headed to a unit
    since: dt.datetime | None = None

    @property
    def away(self) -> bool:
        """Not on the archive's shelf (cannot go into a new outbound dispatch)."""
        return self.status in (IN_TRANSIT, AT_UNIT)


HOME = Location(IN_ARCHIVE, "en el archivo")


def _last_movement(session: Session, *, document_id: int | None,
                   label: str | None) -> DispatchItem | None:
    query = (select(DispatchItem).join(Dispatch, Dispatch.id == DispatchItem.dispatch_id)
             .where(Dispatch.state != DispatchState.ANULADO)
             .order_by(DispatchItem.id.desc()).limit(1))
    if document_id is not None:
        query = query.where(DispatchItem.document_id == document_id, DispatchItem.is_original)
    else:
        query = query.where(DispatchItem.label_code == label)
    return session.scalar(query)


def locate(session: Session, *, document_id: int | None = None,
           label_code: str | None = None) -> Location:
    """The place of one original document (by id) or one labelled folder or box."""
    item = _last_movement(session, document_id=document_id, label=label_code)
    if item is None:
        return HOME
    d = item.dispatch
    unit = d.regional_unit
    to = destination_label(d)
    ref: dict[str, Any] = {"dispatch_id": d.id, "dispatch_number": d.number}
    if d.state in (DispatchState.BORRADOR, DispatchState.PREPARADO):
        where = f"en {unit.name}" if d.is_return else "en el archivo"
        return Location(RESERVED, f"{where}, reservado para el despacho {d.number} a {to}",
                        regional_unit_id=unit.id if d.is_return else None, since=d.created_at,
                        **ref)
    if d.state is DispatchState.ENVIADO:
        return Location(IN_TRANSIT, f"en tránsito a {to} (despacho {d.number}, enviado el "
                                    f"{fmt_date(d.sent_at)})",
                        regional_unit_id=None if d.is_return else unit.id, since=d.sent_at, **ref)
    if item.outcome is ItemOutcome.FALTANTE:
        return Location(MISSING, f"faltante: no llegó a {to} en el despacho {d.number}",
                        since=d.received_at, **ref)
    if d.is_return:
        return Location(IN_ARCHIVE, f"en el archivo desde el {fmt_date(d.received_at)} "
                                    f"(devuelto por {unit.name} en {d.number})",
                        since=d.received_at, **ref)
    return Location(AT_UNIT, f"en {unit.name} desde el {fmt_date(d.received_at)}",
                    regional_unit_id=unit.id, since=d.received_at, **ref)
