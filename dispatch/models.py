"""Tables of courier dispatches (encomiendas), kept on the shared ``Base``.

Migration ``0006`` creates them; ``migrations/env.py`` imports this module so
autogenerate and the "migrations == models" test see them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.enums import LabelledEnum
from archive.models import Base, Document, RegionalUnit, utcnow

from .enums import DispatchState, ItemKind, ItemOutcome


def _enum(cls: type[LabelledEnum], name: str) -> Enum:
    """Stored as plain strings (like ``archive.models``): a new value needs no type migration."""
    return Enum(cls, name=name, native_enum=False, create_constraint=False, length=40,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Courier(Base):
    """A courier service the section uses; deactivated, never deleted (old dispatches name it)."""

    __tablename__ = "dispatch_couriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TransitDays(Base):
    """Expected calendar days in transit to one regional unit (a default applies when absent)."""

    __tablename__ = "dispatch_transit_days"

    regional_unit_id: Mapped[int] = mapped_column(
        ForeignKey("regional_units.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")

    __table_args__ = (CheckConstraint("days >= 0 AND days <= 365", name="days_range"),)


class Dispatch(Base):
    """One package between the archive and a regional unit.

    ``regional_unit_id`` is the unit at the far end: the destination of an
    outbound dispatch, the sender of a return trip (``return_of_id`` set).
    """

    __tablename__ = "dispatches"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    state: Mapped[DispatchState] = mapped_column(
        _enum(DispatchState, "dispatch_state"), default=DispatchState.BORRADOR, index=True)
    origin: Mapped[str] = mapped_column(String(200))
    regional_unit_id: Mapped[int] = mapped_column(ForeignKey("regional_units.id"), index=True)
    return_of_id: Mapped[int | None] = mapped_column(ForeignKey("dispatches.id"), index=True)
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_couriers.id"), index=True)
    guide_number: Mapped[str] = mapped_column(String(60), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    annul_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    prepared_at: Mapped[dt.datetime | None] = mapped_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    received_at: Mapped[dt.datetime | None] = mapped_column()
    expected_delivery: Mapped[dt.date | None] = mapped_column(Date, index=True)

    regional_unit: Mapped[RegionalUnit] = relationship()
    courier: Mapped[Courier | None] = relationship()
    return_of: Mapped["Dispatch | None"] = relationship(remote_side=[id])
    items: Mapped[list["DispatchItem"]] = relationship(
        back_populates="dispatch", order_by="DispatchItem.id", cascade="all, delete-orphan")
    events: Mapped[list["DispatchEvent"]] = relationship(
        back_populates="dispatch", order_by="DispatchEvent.id", cascade="all, delete-orphan")

    @property
    def is_return(self) -> bool:
        return self.return_of_id is not None


class DispatchItem(Base):
    """One thing in the package: an archived document, a labelled folder/box, or free text.

    ``hold_key`` ("doc:12", "label:CAJA-7") is set while a physical original
    travels in an open dispatch and cleared when the dispatch closes; its
    unique constraint makes "the same original in two open dispatches"
    impossible even for two concurrent transactions.
    """

    __tablename__ = "dispatch_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(
        ForeignKey("dispatches.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "dispatch_item_kind"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    label_code: Mapped[str | None] = mapped_column(String(60), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    sheets: Mapped[int | None] = mapped_column(Integer)
    is_original: Mapped[bool] = mapped_column(Boolean, default=True)
    hold_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    outcome: Mapped[ItemOutcome | None] = mapped_column(_enum(ItemOutcome, "dispatch_item_outcome"))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_by: Mapped[str] = mapped_column(String(80), default="")
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(80), default="")

    dispatch: Mapped[Dispatch] = relationship(back_populates="items")
    document: Mapped[Document | None] = relationship()

    __table_args__ = (
        UniqueConstraint("dispatch_id", "document_id", name="uq_dispatch_items_document"),
        UniqueConstraint("dispatch_id", "label_code", name="uq_dispatch_items_label"),
        CheckConstraint("(kind <> 'documento') OR (document_id IS NOT NULL)", name="document_set"),
        CheckConstraint("(kind <> 'carpeta') OR (label_code IS NOT NULL)", name="label_set"),
        CheckConstraint("sheets IS NULL OR sheets >= 0", name="sheets_positive"),
    )

    @property
    def is_discrepancy(self) -> bool:
        return self.outcome in (ItemOutcome.FALTANTE, ItemOutcome.DANADO)


class DispatchEvent(Base):
    """Append-only history of one dispatch: every transition and item change, who and when."""

    __tablename__ = "dispatch_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(
        ForeignKey("dispatches.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[DispatchState | None] = mapped_column(_enum(DispatchState, "dispatch_state"))
    to_state: Mapped[DispatchState] = mapped_column(_enum(DispatchState, "dispatch_state"))
    note: Mapped[str] = mapped_column(Text, default="")

    dispatch: Mapped[Dispatch] = relationship(back_populates="events")
