"""`archivo user password|unlock|token`: account care from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from archive.accounts import authenticate, user_for_token
from archive.db import session_scope
from archive.models import User
from archivo_cli.main import cli
from tests.conftest import home_env, make_services


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_password_unlock_and_token(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert run(env, "init").exit_code == 0
    assert run(env, "user", "add", "ana", "--rol", "consulta",
               "--contrasena", "primera-clave-1").exit_code == 0
    svc = make_services(tmp_path / "var")
    with session_scope(svc.sessions) as db:
        ana = db.scalar(select(User).where(User.username == "ana"))
        ana.locked_until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        version = ana.session_version

    unlocked = run(env, "user", "unlock", "ana")
    assert unlocked.exit_code == 0 and "desbloqueada" in unlocked.output
    with session_scope(svc.sessions) as db:
        assert authenticate(db, "ana", "primera-clave-1").username == "ana"

    reset = run(env, "user", "password", "ana")
    assert reset.exit_code == 0 and "se muestra una sola vez" in reset.output
    new = reset.output.rsplit(": ", 1)[1].strip()
    with session_scope(svc.sessions) as db:
        assert authenticate(db, "ana", new).session_version == version + 1

    token = run(env, "user", "token", "ana", "sistema comercial")
    secret = token.output.rsplit(": ", 1)[1].strip()
    with session_scope(svc.sessions) as db:
        assert user_for_token(db, secret).username == "ana"

    missing = run(env, "user", "unlock", "nadie")
    assert missing.exit_code == 1 and "no existe" in missing.output
    svc.dispose()
