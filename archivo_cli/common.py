"""Shared CLI plumbing: settings, services and Spanish error reporting."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.config import load_settings
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


def get_services(ctx: click.Context) -> Services:
    obj = ctx.ensure_object(dict)
    if "services" not in obj:
        try:
            obj["services"] = Services(load_settings())
        except ArchivoError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)
        ctx.call_on_close(obj["services"].dispose)
    return obj["services"]
