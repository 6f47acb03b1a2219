"""Metadata of the archive (SQLAlchemy 2.0 typed mappings).

The database is the source of truth for everything except file bytes (object
storage) and the search index (derived from ``Page.text``). Every schema
change goes through an Alembic migration in ``migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .enums import DocumentStatus, DocumentType, LinkSource, Role, SupplyStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _enum(cls: type, name: str) -> Enum:
    """Enums are stored as plain strings so adding a value needs no type migration."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class RegionalUnit(Base):
    __tablename__ = "regional_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")


class Supply(Base):
    """A low-voltage customer supply as exported by the commercial system."""

    __tablename__ = "supplies"

    nis: Mapped[str] = mapped_column(String(12), primary_key=True)
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    holder_document: Mapped[str] = mapped_column(String(30), default="", index=True)
    address: Mapped[str] = mapped_column(String(250), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    regional_unit_id: Mapped[int | None] = mapped_column(ForeignKey("regional_units.id"))
    tariff: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[SupplyStatus] = mapped_column(
        _enum(SupplyStatus, "supply_status"), default=SupplyStatus.ACTIVO
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    regional_unit: Mapped[RegionalUnit | None] = relationship()

    __table_args__ = (CheckConstraint("nis <> ''", name="nis_not_empty"),)


class Blob(Base):
    """One stored object, identified by its storage key.

    The same bytes may sit under two keys (an original that is also some
    document's searchable PDF), so the hash is indexed, not unique.
    """

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[dt.datetime | None] = mapped_column()


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_number: Mapped[str] = mapped_column(String(20), unique=True)
    doc_type: Mapped[DocumentType] = mapped_column(
        _enum(DocumentType, "document_type"), default=DocumentType.OTRO, index=True
    )
    doc_type_confidence: Mapped[float | None] = mapped_column(Float)
    doc_type_fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "document_status"), default=DocumentStatus.RECIBIDO, index=True
    )
    expediente: Mapped[str | None] = mapped_column(String(40), index=True)
    ot_number: Mapped[str | None] = mapped_column(String(40), index=True)
    document_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    received_by: Mapped[str] = mapped_column(String(80), default="")
    original_blob_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"), unique=True)
    original_filename: Mapped[str] = mapped_column(String(300), default="")
    pdf_blob_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id"))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    review_reasons: Mapped[str] = mapped_column(String(300), default="")
    error_code: Mapped[str | None] = mapped_column(String(30))
    error_message: Mapped[str | None] = mapped_column(Text)
    # Processing lease: a worker owns the document while claim_token is set and fresh.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[dt.datetime | None] = mapped_column()
    # Search index bookkeeping: the indexer picks documents whose index_due is set.
    index_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    indexed_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    original: Mapped[Blob] = relationship(foreign_keys=[original_blob_id])
    pdf: Mapped[Blob | None] = relationship(foreign_keys=[pdf_blob_id])
    pages: Mapped[list["Page"]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan"
    )
    supplies: Mapped[list["DocumentSupply"]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )
    identifiers: Mapped[list["DocumentIdentifier"]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )

    @property
    def nis_list(self) -> list[str]:
        return sorted(link.nis for link in self.supplies)


class DocumentSupply(Base):
    """A document concerns a supply. The NIS need not be in the registry (yet)."""

    __tablename__ = "document_supplies"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    nis: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)
    source: Mapped[LinkSource] = mapped_column(_enum(LinkSource, "link_source"))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    document: Mapped[Document] = relationship(back_populates="supplies")


class DocumentIdentifier(Base):
    """Normalized identifiers read from a document (cedula, ruc, expediente, ot)."""

    __tablename__ = "document_identifiers"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)

    document: Mapped[Document] = relationship(back_populates="identifiers")

    __table_args__ = (Index("ix_document_identifiers_kind_value", "kind", "value"),)


class Page(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    text_source: Mapped[str] = mapped_column(String(10), default="ocr")  # ocr | pdf
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    dpi: Mapped[int] = mapped_column(Integer, default=0)
    # Derivative keys are indexed: the orphan check asks "is this key named?" in batches.
    image_key: Mapped[str | None] = mapped_column(String(300), index=True)
    thumb_key: Mapped[str | None] = mapped_column(String(300), index=True)
    words_key: Mapped[str | None] = mapped_column(String(300), index=True)
    # SHA-256 and size recorded when each derivative is written, so `archivo check` can
    # re-hash it. NULL on rows written before migration 0009 until
    # `archivo check --objetos --registrar-sumas` fills them.
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_size: Mapped[int | None] = mapped_column(BigInteger)
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    thumb_size: Mapped[int | None] = mapped_column(BigInteger)
    words_sha256: Mapped[str | None] = mapped_column(String(64))
    words_size: Mapped[int | None] = mapped_column(BigInteger)

    document: Mapped[Document] = relationship(back_populates="pages")

    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_pages_document_number"),)


PAGE_DERIVATIVES = ("image", "thumb", "words")  # column prefixes: <kind>_key/_sha256/_size


def derivative_sums(**sums: tuple[str, int] | None) -> dict[str, Any]:
    """``Page`` keyword arguments for the given ``kind=(sha256, size)``; None stays NULL.

    One helper for every writer (ingest, bag import), so the columns are filled alike.
    """
    out: dict[str, Any] = {}
    for kind, value in sums.items():
        if kind not in PAGE_DERIVATIVES:
            raise ValueError(f"unknown page derivative {kind!r}")
        if value is not None:
            out[f"{kind}_sha256"], out[f"{kind}_size"] = value
    return out


class Sequence(Base):
    """Counters for human numbers (ARC-2026-000123); values are never handed out twice."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditEvent(Base):
    """Append-only; each event carries the hash of the previous one (tamper evidence)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of ``hash`` with the audit key kept outside the database (archive.audit_key);
    # NULL only on events written before the key existed.
    mac: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    regional_unit_id: Mapped[int | None] = mapped_column(ForeignKey("regional_units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    # Bumped on password change or deactivation: sessions carrying an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    regional_unit: Mapped[RegionalUnit | None] = relationship()


class ApiToken(Base):
    """A bearer token for other systems; only its SHA-256 is kept, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class WebSession(Base):
    """One signed-in browser session. The cookie is only signed, so signing out must end
    the session here: a cookie whose row is gone opens nothing. Only the SHA-256 of its
    random id is kept."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
