"""Tables of the physical archive: where the paper is, how it moved, who borrowed it.

They hang on the shared ``Base`` so one Alembic history covers them
(migration ``0007``; ``migrations/env.py`` imports this module). No existing
table is altered: the place of a document's paper original is a row of its
own (``physical_document_places``) rather than a column on ``documents``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models import Base, Document, utcnow


class LocationLevel(Base):
    """One level of the location tree (1 = top). Names and code prefixes are data, not code.

    Migration ``0007`` seeds Depósito > Sala > Estante > Caja; an archive with
    another layout renames them or adds a level (``archivo fisico niveles``).
    """

    __tablename__ = "physical_levels"

    depth: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(40))
    code_prefix: Mapped[str] = mapped_column(String(12))

    __table_args__ = (CheckConstraint("depth >= 1", name="depth_positive"),)


class Location(Base):
    """A node of the tree: a depósito, a sala, an estante or a caja. Its code is on its label."""

    __tablename__ = "physical_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    depth: Mapped[int] = mapped_column(ForeignKey("physical_levels.depth"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    level: Mapped[LocationLevel] = relationship()
    parent: Mapped["Location | None"] = relationship(remote_side=[id])


class Folder(Base):
    """A physical folder (carpeta), usually one supply's contract file, with a labelled code."""

    __tablename__ = "physical_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    nis: Mapped[str | None] = mapped_column(String(12), index=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    location: Mapped[Location | None] = relationship()


class DocumentPlace(Base):
    """Where the paper original of one archived document is kept: a folder or a location."""

    __tablename__ = "physical_document_places"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("physical_folders.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"), index=True)
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    placed_by: Mapped[str] = mapped_column(String(80), default="")

    document: Mapped[Document] = relationship()
    folder: Mapped[Folder | None] = relationship()
    location: Mapped[Location | None] = relationship()

    __table_args__ = (
        CheckConstraint("(folder_id IS NULL) <> (location_id IS NULL)", name="one_place"),)


class Move(Base):
    """A folder or a location node changed place: from, to, who, when, why. Append-only."""

    __tablename__ = "physical_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("physical_folders.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"), index=True)
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("physical_locations.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])

    __table_args__ = (
        CheckConstraint("(folder_id IS NULL) <> (location_id IS NULL)", name="one_subject"),)


class Loan(Base):
    """A folder lent to a person or office (préstamo) until ``due_date``.

    ``open_folder_id`` equals ``folder_id`` while the loan is open and is
    cleared on return; its unique constraint makes two open loans of the same
    folder impossible even for two concurrent transactions.
    """

    __tablename__ = "physical_loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("physical_folders.id"), index=True)
    borrower: Mapped[str] = mapped_column(String(200))
    lent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lent_by: Mapped[str] = mapped_column(String(80), default="")
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    returned_at: Mapped[dt.datetime | None] = mapped_column()
    returned_by: Mapped[str] = mapped_column(String(80), default="")
    return_note: Mapped[str] = mapped_column(Text, default="")
    open_folder_id: Mapped[int | None] = mapped_column(Integer, unique=True)

    folder: Mapped[Folder] = relationship()
