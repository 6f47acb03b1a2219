"""Bring an archive to a usable state: folders, schema, bucket, index, seed data.

Idempotent: running it again on a working archive changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from archive import migrate
from archive.db import check_database, session_scope
from archive.enums import Role
from archive.errors import ConfigError
from archive.models import User
from archive.queue import check_queue, make_huey
from archive.regional import seed_regional_units
from archive.services import Services
from archive.users import create_user
from search import create_or_open


@dataclass
class InitReport:
    regional_units_added: int
    admin_username: str | None  # set when an admin was created now
    admin_password: str | None


def ensure_home(services: Services) -> None:
    home = services.settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".escritura"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError("ARCHIVO_HOME", f"no se puede escribir en {home}: {exc.strerror}. "
                                          "Elija una carpeta con permiso de escritura.")


def initialize(services: Services, admin_username: str = "admin") -> InitReport:
    ensure_home(services)
    check_database(services.engine)
    migrate.upgrade(services.engine)
    services.store.ensure()
    services.store.check()
    create_or_open(services.settings.index_dir)
    check_queue(make_huey(services.settings))  # a probe; the services' own queue stays unbuilt
    with session_scope(services.sessions) as session:
        added = seed_regional_units(session)
        has_admin = session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1))
        username = password = None
        if not has_admin:
            user, password = create_user(session, admin_username, Role.ADMIN,
                                         full_name="Administrador", actor="archivo init")
            username = user.username
        services.audit_key(session)  # the audit key file, made now if missing (upgrade)
    return InitReport(added, username, password)
