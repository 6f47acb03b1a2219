"""Every command on an ARCHIVO_HOME that ``archivo init`` never prepared says so, in Spanish.

Before, each one failed on its first query with the database's own words
(«no such table: users»).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive import migrate
from archive.db import make_engine
from archivo_cli.main import cli
from tests.conftest import home_env

# Commands that need no prepared database: they prepare it, show settings, or print sheets.
NO_DATABASE = {("init",), ("config",), ("separadores",)}
# Options a command checks before it opens the archive (one of several is required).
EXTRA = {("agregar",): ["--texto", "antecedentes"]}


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def _value(param: click.Parameter, sample: Path) -> str:
    """A value click accepts for ``param``, so the call reaches the command itself."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "1"
    if isinstance(kind, click.Path):
        return str(sample.parent if kind.dir_okay and not kind.file_okay else sample)
    if isinstance(kind, click.DateTime):
        return "2026-11-01"
    return "1234567"


def _arguments(path: tuple[str, ...], sample: Path) -> list[str]:
    args = list(path)
    for param in _command(path).params:
        if isinstance(param, click.Argument):
            args.append(_value(param, sample))
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[0], _value(param, sample)]
    return args + EXTRA.get(path[1:], [])


NEEDS_DATABASE = [p for p in _commands(cli) if p not in NO_DATABASE]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "muestra" / "archivo.pdf"
    path.parent.mkdir()
    path.write_bytes(b"%PDF-1.4\n")
    return path


def _assert_not_prepared(output: str, home: Path) -> None:
    assert f"ARCHIVO_HOME ({home.resolve()}) no está preparado" in output, output
    assert "«archivo init»" in output
    assert "no such table" not in output and "Traceback" not in output


@pytest.mark.parametrize("path", NEEDS_DATABASE, ids=" ".join)
def test_every_command_on_a_fresh_home_asks_for_init(path: tuple[str, ...], tmp_path: Path,
                                                     sample: Path) -> None:
    home = tmp_path / "var"
    out = CliRunner().invoke(cli, _arguments(path, sample), env=home_env(home))
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    _assert_not_prepared(out.output, home)
    assert not (home / "archivo.db").exists()  # asking left no empty database behind


def test_an_empty_sqlite_database_asks_for_init(tmp_path: Path) -> None:
    home = tmp_path / "var"
    home.mkdir()
    make_engine(f"sqlite:///{home}/archivo.db").connect().close()  # a file with no tables
    out = CliRunner().invoke(cli, ["user", "list"], env=home_env(home))
    assert out.exit_code == 1
    _assert_not_prepared(out.output, home)
    assert "vacía" in out.output


def test_init_config_and_separators_need_no_prepared_home(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert CliRunner().invoke(cli, ["config"], env=env).exit_code == 0
    sheets = CliRunner().invoke(cli, ["separadores", "1234567", "--salida",
                                      str(tmp_path / "hojas.pdf")], env=env)
    assert sheets.exit_code == 0, sheets.output
    assert not (tmp_path / "var" / "archivo.db").exists()  # looking for a registry created none
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    listing = CliRunner().invoke(cli, ["user", "list"], env=env)
    assert listing.exit_code == 0 and "admin" in listing.output


def test_an_older_schema_asks_for_init_and_a_newer_one_for_the_new_version(tmp_path: Path) -> None:
    home = tmp_path / "var"
    env = home_env(home)
    engine = make_engine(f"sqlite:///{home}/archivo.db")
    migrate.upgrade(engine, "0005")
    older = CliRunner().invoke(cli, ["user", "list"], env=env)
    assert older.exit_code == 1 and "versión anterior" in older.output
    assert "«archivo init»" in older.output and str(home.resolve()) in older.output
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    newer = CliRunner().invoke(cli, ["user", "list"], env=env)
    assert newer.exit_code == 1 and "versión más nueva" in newer.output
    engine.dispose()


@pytest.mark.postgres
def test_an_empty_postgresql_database_asks_for_init(tmp_path: Path, pg_database: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        home = tmp_path / "var"
        url = f"{pg_database}?options=-csearch_path%3D{schema}"
        out = CliRunner().invoke(cli, ["user", "list"],
                                 env=home_env(home, ARCHIVO_DATABASE_URL=url))
        assert out.exit_code == 1
        _assert_not_prepared(out.output, home)
        assert "ARCHIVO_DATABASE_URL" in out.output and "vacía" in out.output
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
