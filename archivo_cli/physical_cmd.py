"""Physical archive commands: ``archivo fisico ...`` (locations, folders, loans, labels).

``--usuario`` names who acts (history and audit); the CLI runs on the
server, so no role check applies, as in the other commands. Lending and
moving pass the dispatch rule (``dispatch.physical_rules.dispatch_hold``):
a folder or box away in a dispatch is refused here as on the web.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from archive import physical as ph
from archive.db import read_scope, session_scope
from archive.localtime import fmt_date, fmt_datetime, local_today
from dispatch import dispatch_hold

from .common import friendly_errors, get_services

ACTOR = click.option("--usuario", "username", default="cli", show_default=True,
                     help="Quién actúa (figura en el historial y la auditoría).")
DAY = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])


@click.group("fisico")
def fisico() -> None:
    """Archivo físico: ubicaciones, carpetas, préstamos y etiquetas."""


@fisico.group("ubicaciones")
def ubicaciones() -> None:
    """El árbol de ubicaciones."""


@ubicaciones.command("agregar")
@click.option("--dentro", "parent", default=None,
              help="Código de la ubicación que la contiene (vacío: un depósito nuevo).")
@click.option("--nombre", default="", help="Nombre, por ejemplo «Contratos 2016».")
@click.option("--codigo", default=None, help="Código de la etiqueta (predeterminado: automático).")
@ACTOR
@click.pass_context
@friendly_errors
def add_location(ctx: click.Context, parent: str | None, nombre: str, codigo: str | None,
                 username: str) -> None:
    """Agrega una ubicación (depósito, sala, estante o caja)."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        node = ph.add_location(db, parent=parent, name=nombre, code=codigo, actor=username)
        click.echo(f"Creada: {ph.path_text(node)}")


def _print_tree(nodes: list[ph.TreeNode], indent: int = 0) -> None:
    for n in nodes:
        count = f"  [{n.total_folders} carpeta(s)]" if n.total_folders else ""
        click.echo(f"{'  ' * indent}{n.label}{count}")
        _print_tree(n.children, indent + 1)


@ubicaciones.command("lista")
@click.pass_context
@friendly_errors
def list_locations(ctx: click.Context) -> None:
    """Muestra el árbol de ubicaciones con la cantidad de carpetas."""
    svc = get_services(ctx)
    with read_scope(svc.sessions) as db:
        roots = ph.tree(db)
    if not roots:
        click.echo("Todavía no hay ubicaciones. Agregue una con "
                   "«archivo fisico ubicaciones agregar».")
    _print_tree(roots)


@ubicaciones.command("mover")
@click.argument("codigo")
@click.argument("hacia")
@click.option("--nota", default="", help="Motivo del movimiento.")
@ACTOR
@click.pass_context
@friendly_errors
def move_location(ctx: click.Context, codigo: str, hacia: str, nota: str, username: str) -> None:
    """Mueve la ubicación CODIGO (por ejemplo una caja) dentro de HACIA."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        move = ph.move_location(db, codigo, to=hacia, note=nota, actor=username,
                                away=dispatch_hold)
        click.echo(f"Movida a {ph.path_text(move.to_location)}.")


@fisico.command("niveles")
@click.option("--nivel", type=click.IntRange(1), default=None,
              help="Nivel a renombrar (1 = el más alto) o el siguiente para agregar uno.")
@click.option("--nombre", default=None, help="Nombre del nivel, por ejemplo «Pasillo».")
@click.option("--prefijo", default=None, help="Prefijo de los códigos automáticos (CAJA, EST...).")
@ACTOR
@click.pass_context
@friendly_errors
def levels(ctx: click.Context, nivel: int | None, nombre: str | None, prefijo: str | None,
           username: str) -> None:
    """Muestra los niveles del árbol; con --nivel y --nombre, renombra o agrega uno."""
    svc = get_services(ctx)
    if nivel is not None:
        if not nombre:
            raise click.UsageError("Indique --nombre para el nivel.")
        with session_scope(svc.sessions) as db:
            ph.set_level(db, nivel, name=nombre, code_prefix=prefijo, actor=username)
    with read_scope(svc.sessions) as db:
        for lv in ph.levels(db):
            click.echo(f"{lv.depth}. {lv.name} (códigos {lv.code_prefix}-000001...)")


@fisico.group("carpeta")
def carpeta() -> None:
    """Carpetas físicas: alta, movimientos, consulta."""


@carpeta.command("crear")
@click.option("--nis", default=None, help="NIS del suministro de la carpeta.")
@click.option("--descripcion", default="", help="Qué contiene.")
@click.option("--en", "location", default=None, help="Código de la caja donde se guarda.")
@click.option("--codigo", default=None, help="Código de la etiqueta (predeterminado: automático).")
@ACTOR
@click.pass_context
@friendly_errors
def create_folder(ctx: click.Context, nis: str | None, descripcion: str, location: str | None,
                  codigo: str | None, username: str) -> None:
    """Da de alta una carpeta física."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        f = ph.create_folder(db, code=codigo, nis=nis, description=descripcion,
                             location=location, actor=username)
        click.echo(f"Carpeta {f.code} creada ({ph.path_text(f.location)}).")


@carpeta.command("mover")
@click.argument("codigo")
@click.argument("hacia")
@click.option("--nota", default="", help="Motivo del movimiento.")
@ACTOR
@click.pass_context
@friendly_errors
def move_folder(ctx: click.Context, codigo: str, hacia: str, nota: str, username: str) -> None:
    """Mueve la carpeta CODIGO a la caja (o ubicación) HACIA."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        move = ph.move_folder(db, codigo, to=hacia, note=nota, actor=username,
                              away=dispatch_hold)
        click.echo(f"Carpeta movida a {ph.path_text(move.to_location)}.")


@carpeta.command("guardar")
@click.argument("numero")
@click.option("--carpeta", "folder", default=None, help="Código de la carpeta.")
@click.option("--caja", "location", default=None, help="Código de la caja (u otra ubicación).")
@ACTOR
@click.pass_context
@friendly_errors
def place(ctx: click.Context, numero: str, folder: str | None, location: str | None,
          username: str) -> None:
    """Registra dónde se guarda el original en papel del documento NUMERO (ARC-...)."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        p = ph.place_document(db, numero, folder=folder, location=location, actor=username,
                              away=dispatch_hold)
        click.echo(f"El original de {p.document.archive_number} queda en {ph.describe_place(p)}.")


@carpeta.command("ver")
@click.argument("codigo")
@click.pass_context
@friendly_errors
def show_folder(ctx: click.Context, codigo: str) -> None:
    """Muestra una carpeta: ubicación, originales, movimientos y préstamos."""
    svc = get_services(ctx)
    with read_scope(svc.sessions) as db:
        f = ph.folder_detail(db, codigo, away=dispatch_hold)
    click.echo(f"Carpeta {f.code}" + (f" · NIS {f.nis}" if f.nis else ""))
    if f.description:
        click.echo(f"  {f.description}")
    click.echo(f"  Ubicación: {f.location_text}")
    if f.hold:
        click.echo(f"  Fuera del archivo: {f.hold}")
    loan = f.open_loan
    if loan:
        late = f" (VENCIDO, {loan.days_late} día(s))" if loan.overdue else ""
        click.echo(f"  Prestada a {loan.borrower} hasta el {fmt_date(loan.due_date)}{late}")
    click.echo(f"Originales ({len(f.documents)}):")
    for d in f.documents:
        nis = f" · NIS {', '.join(d.nis)}" if d.nis else ""
        click.echo(f"  {d.archive_number} · {d.doc_type}{nis}")
    click.echo("Movimientos:")
    for m in f.moves:
        note = f" ({m.note})" if m.note else ""
        click.echo(f"  {fmt_datetime(m.at)} {m.actor}: {m.from_text} -> {m.to_text}{note}")
    click.echo("Préstamos:")
    for ln in f.loans:
        back = f"devuelta el {fmt_date(ln.returned_at)}" if ln.returned_at else "abierto"
        click.echo(f"  {fmt_date(ln.lent_at)} a {ln.borrower}, "
                   f"vence {fmt_date(ln.due_date)}: {back}")


@fisico.command("prestar")
@click.argument("codigo")
@click.option("--a", "borrower", required=True, help="Persona u oficina que la recibe.")
@click.option("--hasta", "due", type=DAY, required=True, help="Fecha de devolución (AAAA-MM-DD).")
@click.option("--nota", default="", help="Nota del préstamo.")
@ACTOR
@click.pass_context
@friendly_errors
def lend(ctx: click.Context, codigo: str, borrower: str, due: dt.datetime, nota: str,
         username: str) -> None:
    """Presta la carpeta CODIGO."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        loan = ph.lend(db, codigo, borrower=borrower, due=due.date(), note=nota, actor=username,
                       away=dispatch_hold)
        click.echo(f"Carpeta {loan.folder.code} prestada a {loan.borrower} hasta el "
                   f"{fmt_date(loan.due_date)}.")


@fisico.command("devolver")
@click.argument("codigo")
@click.option("--nota", default="", help="Nota de la devolución.")
@ACTOR
@click.pass_context
@friendly_errors
def give_back(ctx: click.Context, codigo: str, nota: str, username: str) -> None:
    """Registra la devolución de la carpeta CODIGO."""
    svc = get_services(ctx)
    with session_scope(svc.sessions) as db:
        loan = ph.return_folder(db, codigo, note=nota, actor=username)
        click.echo(f"Carpeta {loan.folder.code} devuelta por {loan.borrower}.")


@fisico.command("prestamos")
@click.option("--vencidos", is_flag=True, help="Solo los vencidos.")
@click.option("--todos", is_flag=True, help="También los ya devueltos.")
@click.pass_context
@friendly_errors
def list_loans(ctx: click.Context, vencidos: bool, todos: bool) -> None:
    """Lista los préstamos abiertos (o los vencidos)."""
    svc = get_services(ctx)
    today = local_today()
    with read_scope(svc.sessions) as db:
        rows = ph.loans(db, open_only=not todos, overdue_on=today if vencidos else None)
        views = [ph.loan_view(ln, today) for ln in rows]
    if not views:
        click.echo("No hay préstamos vencidos." if vencidos else "No hay préstamos.")
        return
    click.echo(f"{'CARPETA':16} {'NIS':12} {'A QUIÉN':30} {'DESDE':10} {'VENCE':10} ESTADO")
    for v in views:
        state = (f"devuelta {fmt_date(v.returned_at)}" if v.returned_at
                 else f"VENCIDO ({v.days_late} d)" if v.overdue else "en préstamo")
        click.echo(f"{v.folder_code:16} {v.nis or '-':12} {v.borrower[:30]:30} "
                   f"{fmt_date(v.lent_at):10} {fmt_date(v.due_date):10} {state}")


@fisico.command("etiquetas")
@click.argument("codigos", nargs=-1, required=True)
@click.option("--formato", type=click.Choice(list(ph.LAYOUTS)), default=ph.SHEET,
              show_default=True, help="hoja24: 24 etiquetas de 70x37 mm; grande: una por página.")
@click.option("--desde", type=click.IntRange(1, 24), default=1, show_default=True,
              help="Primera etiqueta libre de la hoja (si ya se usaron algunas).")
@click.option("--salida", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Archivo PDF a escribir.")
@click.pass_context
@friendly_errors
def labels(ctx: click.Context, codigos: tuple[str, ...], formato: str, desde: int,
           salida: Path) -> None:
    """Genera el PDF de etiquetas de cajas, carpetas o documentos (CODIGOS)."""
    svc = get_services(ctx)
    with read_scope(svc.sessions) as db:
        items = ph.label_items(db, codigos)
    salida.write_bytes(ph.render_labels(items, formato, start=desde - 1))
    click.echo(f"{len(items)} etiqueta(s) en {salida}.")


def register(cli: click.Group) -> None:
    cli.add_command(fisico)
