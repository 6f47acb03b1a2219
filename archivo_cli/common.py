"""Shared CLI plumbing: settings, services and Spanish error reporting."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from archive import migrate
from archive.config import load_settings
from archive.db import check_database
from archive.errors import ArchivoError
from archive.services import Services

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn an ArchivoError into one Spanish line on stderr and exit status 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArchivoError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)
        except BrokenPipeError:  # output piped into `head` and closed: nothing to report
            sys.exit(0)
        except OSError as exc:  # files the user named, folders the settings point to
            where = f" ({exc.filename})" if exc.filename else ""
            click.secho(f"Error: no se pudo acceder a un archivo o carpeta{where}: "
                        f"{exc.strerror or exc}. Verifique la ruta y los permisos.", fg="red", err=True)
            sys.exit(1)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            click.secho(f"Error: la base de datos rechazó la operación ({reason}). Verifique "
                        "ARCHIVO_DATABASE_URL y los permisos del usuario de la base.", fg="red", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def get_services(ctx: click.Context, *, prepared: bool = True) -> Services:
    """The archive's services; unless ``prepared=False`` (``init``, ``config``), refuse
    to go on when ``archivo init`` has not prepared the database yet."""
    obj = ctx.ensure_object(dict)
    if "services" not in obj:
        try:
            obj["services"] = Services(load_settings())
        except ArchivoError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)
        ctx.call_on_close(obj["services"].dispose)
    svc: Services = obj["services"]
    if prepared and not obj.get("prepared"):
        try:
            require_prepared(svc)
        except ArchivoError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)
        obj["prepared"] = True
    return svc


def require_prepared(svc: Services) -> None:
    """Raise a Spanish ArchivoError unless the database schema is the one this version needs.

    Without it every command on a fresh ARCHIVO_HOME fails on its first query
    with the database's own words («no such table: users»).
    """
    home = svc.settings.home
    url = make_url(svc.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():  # don't leave an empty database file behind
        raise ArchivoError(f"ARCHIVO_HOME ({home}) no está preparado: todavía no tiene base de "
                           "datos. Ejecute «archivo init» para prepararlo.")
    check_database(svc.engine)
    revision = migrate.current_revision(svc.engine)
    if revision is None:
        where = ("su base de datos está vacía" if url.get_backend_name() == "sqlite" else
                 f"la base de datos de ARCHIVO_DATABASE_URL "
                 f"({svc.settings.masked()['ARCHIVO_DATABASE_URL']}) está vacía")
        raise ArchivoError(f"ARCHIVO_HOME ({home}) no está preparado: {where}. "
                           "Ejecute «archivo init» para prepararlo.")
    if revision == migrate.head_revision(svc.engine):
        return
    if _known_revision(svc, revision):
        raise ArchivoError(f"La base de datos de ARCHIVO_HOME ({home}) es de una versión anterior "
                           "de archivo. Ejecute «archivo init» para actualizarla.")
    raise ArchivoError(f"La base de datos de ARCHIVO_HOME ({home}) fue actualizada por una "
                       "versión más nueva de archivo. Instale esa versión en esta máquina.")


def _known_revision(svc: Services, revision: str) -> bool:
    """Whether this version's migrations include ``revision`` (an older schema, not a newer one)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(migrate.alembic_config(svc.engine))
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
