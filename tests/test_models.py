"""Migrations and models on SQLite and PostgreSQL (the ``db_url`` fixture runs both)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from archive import audit, migrate
import archive.registry.models  # noqa: F401 - the whole schema, whatever ran before
from archive.db import make_engine, make_sessionmaker, session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource, Role
from archive.models import (AuditEvent, Base, Blob, Document, DocumentSupply, Page, RegionalUnit,
                            Supply, User)
from archive.regional import seed_regional_units
from archive.sequences import archive_number
from archive.users import create_user, verify_password


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def test_migrations_match_models(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []
    assert migrate.is_current(engine)


def test_downgrade_and_upgrade_again(engine) -> None:  # type: ignore[no-untyped-def]
    migrate.downgrade(engine, "base")
    assert "documents" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert {"documents", "pages", "blobs", "audit_events"} <= set(inspect(engine).get_table_names())


def _blob(session, n: int = 1) -> Blob:  # type: ignore[no-untyped-def]
    b = Blob(sha256=f"{n:064x}", size=10, media_type="image/png", storage_key=f"originals/{n}")
    session.add(b)
    session.flush()
    return b


def test_document_with_pages_links_and_supply(engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as s:
        seed_regional_units(s)
        unit = s.scalar(select(RegionalUnit).where(RegionalUnit.code == "SUR"))
        s.add(Supply(nis="4992383", holder_name="María González", regional_unit_id=unit.id))
        doc = Document(archive_number=archive_number(s, dt.date(2026, 3, 1)),
                       original_blob_id=_blob(s).id, doc_type=DocumentType.CROQUIS,
                       document_date=dt.date(2016, 10, 3))
        s.add(doc)
        s.flush()
        s.add(Page(document_id=doc.id, number=1, text="Croquis de ubicación"))
        s.add(DocumentSupply(document_id=doc.id, nis="4992383", source=LinkSource.OCR,
                             confidence=0.95))
    with session_scope(sessions) as s:
        got = s.scalar(select(Document))
        assert got.archive_number == "ARC-2026-000001"
        assert got.status is DocumentStatus.RECIBIDO
        assert got.doc_type is DocumentType.CROQUIS and got.doc_type.label == "Croquis de ubicación"
        assert got.nis_list == ["4992383"]
        assert [p.text for p in got.pages] == ["Croquis de ubicación"]
        assert s.get(Supply, "4992383").regional_unit.name == "Regional Sur"


def test_page_numbers_are_unique_per_document(engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(engine)
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as s:
            doc = Document(archive_number="ARC-2026-000009", original_blob_id=_blob(s).id)
            s.add(doc)
            s.flush()
            s.add_all([Page(document_id=doc.id, number=1), Page(document_id=doc.id, number=1)])


def test_archive_numbers_are_sequential_and_never_reused(engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(engine)
    day = dt.date(2026, 5, 1)
    with session_scope(sessions) as s:
        assert archive_number(s, day) == "ARC-2026-000001"
    with pytest.raises(RuntimeError):
        with session_scope(sessions) as s:
            archive_number(s, day)
            raise RuntimeError("rolled back")  # a rolled back number was never handed out
    with session_scope(sessions) as s:
        assert archive_number(s, day) == "ARC-2026-000002"
        assert archive_number(s, dt.date(2027, 1, 1)) == "ARC-2027-000001"


def test_enum_values_are_stored_as_codes(engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as s:
        s.add(Document(archive_number="ARC-2026-000100", original_blob_id=_blob(s).id,
                       doc_type=DocumentType.DENUNCIA_ROBO_MEDIDOR, status=DocumentStatus.REVISAR))
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT doc_type, status FROM documents").one()
    assert tuple(row) == ("denuncia_robo_medidor", "revisar")


def test_users_and_audit_chain(engine) -> None:  # type: ignore[no-untyped-def]
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as s:
        seed_regional_units(s)
        user, pw = create_user(s, "Archivista1", Role.ARCHIVISTA)
        create_user(s, "sur", "regional", password="una-clave-larga", regional_code="SUR")
        audit.record(s, "archivista1", "documento.ver", "documento", "ARC-2026-000001")
    with session_scope(sessions) as s:
        u = s.scalar(select(User).where(User.username == "archivista1"))
        assert verify_password(u, pw) and not verify_password(u, "otra")
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["usuario.crear", "usuario.crear", "documento.ver"]
        assert audit.verify_chain(events) == []
        events[1].details = {"rol": "admin"}  # tampering is detected
        problems = audit.verify_chain(events)
        assert [p.event_id for p in problems] == [events[1].id]
        s.rollback()


def test_readers_do_not_wait_for_a_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a read_scope runs while another connection holds the write lock."""
    from archive.db import read_scope

    eng = make_engine(f"sqlite:///{tmp_path}/r.db")
    migrate.upgrade(eng)
    sessions = make_sessionmaker(eng)
    with session_scope(sessions) as s:
        seed_regional_units(s)
    writer = sessions()
    writer.execute(select(RegionalUnit.id)).all()  # BEGIN IMMEDIATE: write lock held
    try:
        slow = make_engine(f"sqlite:///{tmp_path}/r.db")
        with read_scope(make_sessionmaker(slow)) as r:
            assert len(r.scalars(select(RegionalUnit)).all()) == 8
        slow.dispose()
    finally:
        writer.rollback()
        writer.close()
        eng.dispose()
