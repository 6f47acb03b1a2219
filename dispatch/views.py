"""Detached, read-only copies of dispatches for callers (web, CLI, PDF) after the session closes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .clock import local_date
from .enums import DispatchState, ItemKind, ItemOutcome, event_label
from .models import Dispatch, DispatchEvent, DispatchItem
from .permissions import DispatchScope
from .workflow import OPEN_STATES, RECEIVED_STATES, days_late

# Where outbound dispatches leave from unless the clerk writes another origin.
DEFAULT_ORIGIN = "Archivo de Atención al Cliente"


@dataclass(frozen=True)
class ItemView:
    id: int
    kind: ItemKind
    is_original: bool
    document_id: int | None
    archive_number: str  # "" for folders and free text
    doc_type: str  # Spanish label of the document type, or the kind
    nis: tuple[str, ...]
    label_code: str
    description: str
    sheets: int | None  # pages of a document, sheets written for the rest
    outcome: ItemOutcome | None
    outcome_note: str
    resolved: bool
    resolution_note: str

    @property
    def copy_label(self) -> str:
        return "Original" if self.is_original else "Copia"

    @property
    def reference(self) -> str:
        """What a person reads to find the item: archive number, label code or the text."""
        return self.archive_number or self.label_code or self.description

    @property
    def is_discrepancy(self) -> bool:
        return self.outcome in (ItemOutcome.FALTANTE, ItemOutcome.DANADO)


@dataclass(frozen=True)
class EventView:
    at: dt.datetime
    actor: str
    action: str
    from_state: DispatchState | None
    to_state: DispatchState
    note: str

    @property
    def label(self) -> str:
        """What happened, in Spanish words («Ítem agregado», not ``agregar_item``)."""
        return event_label(self.action)

    @property
    def changed_state(self) -> bool:
        return self.from_state is not None and self.from_state is not self.to_state

    @property
    def state_text(self) -> str:
        """«Borrador → Preparado» for a transition; just the state when it did not change."""
        if self.changed_state:
            assert self.from_state is not None
            return f"{self.from_state.label} → {self.to_state.label}"
        return self.to_state.label


@dataclass(frozen=True)
class DispatchView:
    id: int
    number: str
    state: DispatchState
    origin: str
    destination: str
    regional_unit_id: int
    regional_unit_code: str
    regional_unit_name: str
    return_of_id: int | None
    return_of_number: str
    courier: str
    guide_number: str
    notes: str
    annul_reason: str
    created_at: dt.datetime
    created_by: str
    prepared_at: dt.datetime | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    expected_delivery: dt.date | None
    item_count: int = 0
    items: tuple[ItemView, ...] = ()
    events: tuple[EventView, ...] = ()

    @property
    def is_return(self) -> bool:
        return self.return_of_id is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def scope(self) -> DispatchScope:
        return DispatchScope(self.regional_unit_id, self.is_return)

    @property
    def state_label(self) -> str:
        return self.state.label

    @property
    def total_sheets(self) -> int:
        return sum(i.sheets or 0 for i in self.items)

    @property
    def transit_days(self) -> int | None:
        """Calendar days from handover to receipt, in Paraguay's days."""
        if self.sent_at is None or self.received_at is None or self.state not in RECEIVED_STATES:
            return None
        return (local_date(self.received_at) - local_date(self.sent_at)).days

    def days_late(self, today: dt.date) -> int:
        """Days past the expected delivery while still on the road (0 when not overdue)."""
        return days_late(self.state, self.expected_delivery, today)

    def is_overdue(self, today: dt.date) -> bool:
        return self.days_late(today) > 0


def destination_label(d: Dispatch) -> str:
    """Outbound: the unit's name; return trip: where the original dispatch left from."""
    if d.return_of is not None:
        return d.return_of.origin
    return d.regional_unit.name


def item_view(it: DispatchItem) -> ItemView:
    doc = it.document
    if doc is not None:
        return ItemView(it.id, it.kind, it.is_original, doc.id, doc.archive_number,
                        doc.doc_type.label, tuple(doc.nis_list), it.label_code or "",
                        it.description or doc.title, doc.page_count or it.sheets, it.outcome,
                        it.outcome_note, it.resolved, it.resolution_note)
    kind_label = it.kind.label if it.kind is ItemKind.CARPETA else "Otro"
    return ItemView(it.id, it.kind, it.is_original, None, "", kind_label, (), it.label_code or "",
                    it.description, it.sheets, it.outcome, it.outcome_note, it.resolved,
                    it.resolution_note)


def event_view(ev: DispatchEvent) -> EventView:
    return EventView(ev.at, ev.actor, ev.action, ev.from_state, ev.to_state, ev.note)


def dispatch_view(d: Dispatch, *, full: bool = True) -> DispatchView:
    """``full`` adds items and events (detail page); lists leave them out."""
    return DispatchView(
        id=d.id, number=d.number, state=d.state, origin=d.origin,
        destination=destination_label(d), regional_unit_id=d.regional_unit_id,
        regional_unit_code=d.regional_unit.code, regional_unit_name=d.regional_unit.name,
        return_of_id=d.return_of_id, return_of_number=d.return_of.number if d.return_of else "",
        courier=d.courier.name if d.courier else "", guide_number=d.guide_number, notes=d.notes,
        annul_reason=d.annul_reason or "", created_at=d.created_at, created_by=d.created_by,
        prepared_at=d.prepared_at, sent_at=d.sent_at, received_at=d.received_at,
        expected_delivery=d.expected_delivery, item_count=len(d.items),
        items=tuple(item_view(i) for i in d.items) if full else (),
        events=tuple(event_view(e) for e in d.events) if full else (),
    )
