"""PostgreSQL drops every connection (what a restart looks like from archivo): the next
requests work again without restarting archivo, and nothing accepted is lost."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from archive.db import session_scope
from archive.models import Document
from ingest.process import process_document
from tests import scans
from tests.api_support import API, make_api_archive
from tests.conftest import PG_ADMIN_URL

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    schema = f"reinicio_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    eng = create_engine(pg_database, isolation_level="AUTOCOMMIT")  # the test killed the old one
    with eng.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def _drop_connections(database: str) -> int:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar()
    admin.dispose()
    return int(killed or 0)


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    scans.page(seed=seed)[0].save(buf, format="PNG")
    return buf.getvalue()


def test_connections_dropped_then_everything_works(tmp_path: Path, pg_url: str) -> None:
    arc = make_api_archive(tmp_path, immediate=False, ARCHIVO_DATABASE_URL=pg_url)
    first = arc.upload("archivista", _png(95), "uno.png")
    assert first.status_code == 202
    database = pg_url.split("?", 1)[0].rsplit("/", 1)[1]
    assert _drop_connections(database) >= 1  # the pool held at least one connection

    second = arc.upload("archivista", _png(96), "dos.png")  # pre-ping replaces dead connections
    assert second.status_code == 202, second.get_data(as_text=True)
    for res in (first, second):
        assert process_document(arc.services, res.get_json()["id"]) in ("listo", "revisar")
    _drop_connections(database)
    got = arc.client().get(f"{API}/documents/{first.get_json()['id']}",
                           headers=arc.headers("consulta"))
    assert got.status_code == 200 and got.get_json()["estado"] in ("listo", "revisar")
    with session_scope(arc.services.sessions) as s:
        assert s.query(Document).count() == 2
    arc.services.dispose()
