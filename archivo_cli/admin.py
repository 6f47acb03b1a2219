"""Administrative commands: init, config, user."""

from __future__ import annotations

import click
from sqlalchemy import select

from archive.config import SETTINGS
from archive.db import session_scope
from archive.enums import Role
from archive.models import User
from archive.users import create_user

from .bootstrap import initialize
from .common import friendly_errors, get_services


@click.command()
@click.option("--admin", "admin_username", default="admin", show_default=True,
              help="Nombre del administrador que se crea si todavía no hay ninguno.")
@click.pass_context
@friendly_errors
def init(ctx: click.Context, admin_username: str) -> None:
    """Prepara la instalación: base de datos, almacenamiento, índice y administrador."""
    svc = get_services(ctx, prepared=False)
    report = initialize(svc, admin_username)
    click.echo(f"Instalación lista en {svc.settings.home}")
    if report.regional_units_added:
        click.echo(f"Unidades regionales cargadas: {report.regional_units_added}")
    if report.admin_password:
        click.echo(f"Se creó el usuario administrador «{report.admin_username}».")
        click.secho(f"Contraseña (se muestra una sola vez): {report.admin_password}", bold=True)
    else:
        click.echo("Ya existe un administrador; no se creó otro.")


@click.command()
@click.pass_context
@friendly_errors
def config(ctx: click.Context) -> None:
    """Muestra la configuración efectiva (los secretos aparecen ocultos)."""
    svc = get_services(ctx, prepared=False)
    masked = svc.settings.masked()
    width = max(len(k) for k in masked)
    for s in SETTINGS:
        source = svc.settings.sources.get(s.name, "")
        click.echo(f"{s.env.ljust(width)}  {masked[s.env]}  ({source})")


@click.group()
def user() -> None:
    """Administra los usuarios."""


@user.command("add")
@click.argument("username")
@click.option("--rol", "role", required=True, type=click.Choice([r.value for r in Role]),
              help="Rol del usuario.")
@click.option("--nombre", "full_name", default="", help="Nombre completo.")
@click.option("--regional", "regional_code", default=None,
              help="Código de la unidad regional (obligatorio para el rol regional).")
@click.option("--contrasena", "password", default=None,
              help="Contraseña; si se omite se genera una y se muestra una sola vez.")
@click.pass_context
@friendly_errors
def user_add(ctx: click.Context, username: str, role: str, full_name: str,
             regional_code: str | None, password: str | None) -> None:
    """Crea un usuario."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as session:
        created, pw = create_user(session, username, role, password=password, full_name=full_name,
                                  regional_code=regional_code, actor="cli")
        name = created.username
    click.echo(f"Usuario «{name}» creado con rol {role}.")
    if password is None:
        click.secho(f"Contraseña (se muestra una sola vez): {pw}", bold=True)


@user.command("list")
@click.pass_context
@friendly_errors
def user_list(ctx: click.Context) -> None:
    """Lista los usuarios."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        if not users:
            click.echo("No hay usuarios. Ejecute «archivo init».")
            return
        click.echo(f"{'USUARIO':20} {'ROL':12} {'REGIONAL':10} {'ACTIVO':6} NOMBRE")
        for u in users:
            unit = u.regional_unit.code if u.regional_unit else "-"
            click.echo(f"{u.username:20} {u.role.value:12} {unit:10} "
                       f"{'sí' if u.active else 'no':6} {u.full_name}")


def _user(session, username: str) -> User:  # type: ignore[no-untyped-def]
    from archive.errors import ArchivoError

    found = session.scalar(select(User).where(User.username == username.strip().lower()))
    if found is None:
        raise ArchivoError(f"El usuario «{username}» no existe. Vea «archivo user list».")
    return found


@user.command("password")
@click.argument("username")
@click.option("--contrasena", "password", default=None,
              help="Contraseña nueva; si se omite se genera una y se muestra una sola vez.")
@click.option("--conservar-tokens", "keep_tokens", is_flag=True,
              help="No revocar sus tokens de acceso a la API (solo si la contraseña no se "
                   "vio comprometida).")
@click.pass_context
@friendly_errors
def user_password(ctx: click.Context, username: str, password: str | None,
                  keep_tokens: bool) -> None:
    """Pone una contraseña nueva, desbloquea la cuenta, cierra sus sesiones abiertas y
    revoca sus tokens de acceso a la API (salvo con --conservar-tokens)."""
    from archive.accounts import set_password
    from archive.users import generate_password

    svc = get_services(ctx)
    new = password or generate_password()
    with session_scope(svc.sessions) as session:
        revoked = set_password(session, _user(session, username), new, actor="cli",
                               revoke_tokens=not keep_tokens)
    click.echo(f"Contraseña de «{username}» cambiada; sus sesiones abiertas se cerraron.")
    if keep_tokens:
        click.echo("Sus tokens de acceso a la API siguen valiendo.")
    else:
        click.echo(f"Tokens de acceso a la API revocados: {revoked}.")
    if password is None:
        click.secho(f"Contraseña (se muestra una sola vez): {new}", bold=True)


@user.command("unlock")
@click.argument("username")
@click.pass_context
@friendly_errors
def user_unlock(ctx: click.Context, username: str) -> None:
    """Desbloquea una cuenta bloqueada por intentos fallidos."""
    from archive.accounts import unlock

    svc = get_services(ctx)
    with session_scope(svc.sessions) as session:
        unlock(session, _user(session, username), actor="cli")
    click.echo(f"Cuenta «{username}» desbloqueada.")


@user.command("token")
@click.argument("username")
@click.argument("nombre")
@click.pass_context
@friendly_errors
def user_token(ctx: click.Context, username: str, nombre: str) -> None:
    """Crea un token de acceso a la API para USERNAME (se muestra una sola vez)."""
    from archive.accounts import create_token

    svc = get_services(ctx)
    with session_scope(svc.sessions) as session:
        _, secret = create_token(session, _user(session, username), nombre, actor="cli")
    click.echo(f"Token «{nombre}» creado para «{username}». Envíelo como "
               "«Authorization: Bearer …».")
    click.secho(f"Token (se muestra una sola vez): {secret}", bold=True)
