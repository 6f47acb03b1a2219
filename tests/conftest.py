"""Shared fixtures: a fresh archive home per test, PostgreSQL and SeaweedFS per session."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from archive.config import load_settings
from archive.services import Services

pytest_plugins = ["tests.fixtures.seaweed", "tests.web_support"]

PG_ADMIN_URL = os.environ.get("ARCHIVO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def home_env(home: Path, **extra: str) -> dict[str, str]:
    """Settings environment for an isolated archive under ``home`` (no ambient ARCHIVO_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVO_")}
    env.update({"ARCHIVO_HOME": str(home), "ARCHIVO_OCR_PROCESOS": "2"})
    env.update(extra)
    return env


def make_services(home: Path, **extra: str) -> Services:
    return Services(load_settings(home_env(home, **extra)))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """An initialized embedded archive (SQLite, folder store, SQLite queue)."""
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var")
    initialize(svc)
    yield svc
    svc.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away database on the local PostgreSQL server; dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"archivo_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - environment problem, reported plainly
        pytest.fail(f"PostgreSQL en 127.0.0.1:5432 no disponible para las pruebas: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each model test runs on both databases; PostgreSQL gets a fresh schema per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/t.db"
        return
    base = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:8]}"
    eng = create_engine(base, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with eng.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()
