"""Engine and session factory for SQLite (embedded) and PostgreSQL (scaled)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
