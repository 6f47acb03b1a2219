"""Engine and session factory for SQLite (embedded) and PostgreSQL (scaled)."""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .errors import ConfigError

SETTING = "ARCHIVO_DATABASE_URL"
READ_ONLY = "archivo_read_only"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout.

    WAL lets the web server read while the worker writes; the busy timeout
    makes concurrent writers wait instead of failing at once.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(SETTING, f"«{url}» no es una URL de base de datos válida.")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    except NoSuchModuleError:
        raise ConfigError(SETTING, f"controlador no disponible para «{parsed.drivername}».")
    except ModuleNotFoundError as exc:
        raise ConfigError(
            SETTING, f"falta el controlador {exc.name}: instale archivo[postgres]."
        )


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy, not pysqlite, manage transactions so BEGIN IMMEDIATE works.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock at BEGIN: read-then-write transactions never deadlock on upgrade.
    # Read-only units of work (read_scope) begin deferred, so readers never wait for writers.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads (web pages, reports): never takes SQLite's write lock."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.rollback()
        session.close()


def check_database(engine: Engine) -> None:
    """Raise a Spanish :class:`ConfigError` naming the setting when the database is unusable."""
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise ConfigError(SETTING, f"no se puede conectar a la base de datos ({_reason(exc)}). "
                                   "Verifique que el servidor esté en marcha y la URL sea correcta.")
    except SQLAlchemyError as exc:
        raise ConfigError(SETTING, f"error de la base de datos: {_reason(exc)}.")


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0][:200]


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@dataclass(frozen=True)
class Writers:
    """Who stands in the way of a write, for ``/healthz``.

    ``blocked``: SQLite's single write lock could not be taken within the wait, so every
    change (sign-ins, uploads, the worker) waits or fails with «database is locked».
    ``long_transactions``/``oldest_s``: PostgreSQL transactions open longer than the limit,
    which hold their row locks and keep old row versions alive.
    """

    blocked: bool = False
    long_transactions: int = 0
    oldest_s: float | None = None
    waiting_on_locks: int = 0  # PostgreSQL sessions waiting for another's lock right now


def check_writers(engine: Engine, *, wait_s: float, long_s: float) -> Writers:
    """Try the write lock (SQLite) or look for old transactions (PostgreSQL); never writes."""
    if is_sqlite(engine):
        return Writers(blocked=not _sqlite_write_lock_free(engine, wait_s))
    if engine.dialect.name == "postgresql":
        return _postgres_long_transactions(engine, long_s)
    return Writers()


def _sqlite_write_lock_free(engine: Engine, wait_s: float) -> bool:
    """``BEGIN IMMEDIATE`` then ``ROLLBACK`` on a connection of its own (not the pool's, whose
    connections wait 30 s and may all be taken by the very writers being diagnosed)."""
    path = engine.url.database
    if not path or path == ":memory:":
        return True  # private to this process: nobody else can hold it
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=rw"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=wait_s,
                                     isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return False
        raise ConfigError(SETTING, f"no se puede abrir la base de datos ({exc}).")
    return True


_LONG_TRANSACTIONS = text(
    "SELECT count(*), max(extract(epoch FROM clock_timestamp() - xact_start)) "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND xact_start IS NOT NULL "
    "AND xact_start < clock_timestamp() - make_interval(secs => :limit)")


_LOCK_WAITS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")


def _postgres_long_transactions(engine: Engine, long_s: float) -> Writers:
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        count, oldest = conn.execute(_LONG_TRANSACTIONS, {"limit": long_s}).one()
        waiting = conn.execute(_LOCK_WAITS).scalar_one()
    return Writers(long_transactions=int(count or 0),
                   oldest_s=float(oldest) if oldest is not None else None,
                   waiting_on_locks=int(waiting or 0))
