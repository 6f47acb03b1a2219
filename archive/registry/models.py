"""Tables of the supply registry that the core schema does not have yet.

Both need an Alembic migration (written by the lead); tests create them with
``create_all`` when the migrations do not.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base, utcnow


class SupplyImport(Base):
    """Progress of one import file, keyed by its content, so a crashed run resumes.

    ``rows_done`` counts data records (rejected ones included) whose batch
    committed; a re-run of the same bytes with the same mapping skips them.
    """

    __tablename__ = "supply_imports"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mapping_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str] = mapped_column(String(80), default="")
    rows_done: Mapped[int] = mapped_column(BigInteger, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class SupplyAlias(Base):
    """A former NIS (renumbered or merged away) and the NIS that replaced it.

    Kept so an exact search for the old number still finds the documents.
    Never chained: when the target is renumbered again, aliases are repointed.
    """

    __tablename__ = "supply_aliases"

    old_nis: Mapped[str] = mapped_column(String(12), primary_key=True)
    nis: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # renumerado | fusionado
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
