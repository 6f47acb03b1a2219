"""Supply registry commands: import-supplies, regional, supply renumber/merge."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from archive.queue import wake
from archive.registry import (
    add_regional_unit,
    import_supplies as run_import,
    list_regional_units,
    merge_supplies,
    renumber_supply,
    update_regional_unit,
)
from archive.registry.importer import Rejection

from .common import friendly_errors, get_services

SHOWN_REJECTIONS = 20
ACTOR = click.option("--usuario", "actor", default="cli", show_default=True,
                     help="Quién figura en la auditoría.")


@click.command("import-supplies")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapeo", "mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Archivo TOML con los nombres de columna aceptados para cada campo.")
@click.option("--rechazos", "rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="Escribe todas las filas rechazadas (línea, NIS, motivo) en este CSV.")
@click.option("--lote", "batch_size", type=click.IntRange(100, 100_000), default=5000,
              show_default=True, help="Filas por transacción.")
@ACTOR
@click.pass_context
@friendly_errors
def import_supplies(ctx: click.Context, file: Path, mapping: Path | None, rejects: Path | None,
                    batch_size: int, actor: str) -> None:
    """Importa el padrón de suministros exportado por el sistema comercial (CSV o TXT).

    Se puede repetir: los suministros iguales no cambian y, si una importación
    se interrumpe, la siguiente con el mismo archivo continúa donde quedó.
    """
    from tqdm import tqdm

    svc = get_services(ctx)
    bar = tqdm(total=0, unit=" filas", unit_scale=True, desc="Importando", leave=False,
               disable=None)  # None: no bar when the output is not a terminal

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    out = writer = None
    if rejects is not None:
        out = rejects.open("w", encoding="utf-8", newline="")
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["linea", "nis", "motivo"])

    def on_reject(r: Rejection) -> None:
        if writer is not None:
            writer.writerow([r.line, r.nis, r.reason])

    try:
        report = run_import(svc, file, mapping=mapping, actor=actor, batch_size=batch_size,
                            progress=progress, on_reject=on_reject)
    finally:
        bar.close()
        if out is not None:
            out.close()
    _wake_indexer(svc)
    click.echo(f"Archivo {file.name}: {report.format}.")
    click.echo("Columnas: " + ", ".join(f"{k} = {v}" for k, v in report.columns.items()))
    if report.resumed_after:
        click.echo("Se continuó una importación interrumpida desde la fila "
                   f"{report.resumed_after + 1}.")
    click.echo(f"Insertados: {report.inserted}  Actualizados: {report.updated}  "
               f"Sin cambios: {report.unchanged}  Rechazados: {report.rejected}")
    for r in report.rejections[:SHOWN_REJECTIONS]:
        click.echo(f"  línea {r.line}: {r.reason}")
    if report.rejected > SHOWN_REJECTIONS:
        more = report.rejected - SHOWN_REJECTIONS
        hint = f" (todas en {rejects})" if rejects else " (use --rechazos para guardarlas todas)"
        click.echo(f"  ... y {more} filas rechazadas más{hint}.")


@click.group()
def regional() -> None:
    """Administra las unidades regionales."""


@regional.command("list")
@click.pass_context
@friendly_errors
def regional_list(ctx: click.Context) -> None:
    """Lista las unidades regionales."""
    units = list_regional_units(get_services(ctx))
    if not units:
        click.echo("No hay unidades regionales. Ejecute «archivo init».")
        return
    click.echo(f"{'CÓDIGO':8} {'NOMBRE':28} {'CIUDAD':20} {'DIRECCIÓN':30} CONTACTO")
    for u in units:
        click.echo(f"{u.code:8} {u.name:28} {u.city:20} {u.address:30} {u.contact}")


@regional.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--ciudad", "city", default="", help="Ciudad de la oficina.")
@click.option("--direccion", "address", default="", help="Dirección de la oficina.")
@click.option("--contacto", "contact", default="", help="Teléfono o correo de contacto.")
@ACTOR
@click.pass_context
@friendly_errors
def regional_add(ctx: click.Context, code: str, name: str, city: str, address: str, contact: str,
                 actor: str) -> None:
    """Agrega una unidad regional (CÓDIGO NOMBRE)."""
    unit = add_regional_unit(get_services(ctx), code, name, city=city, address=address,
                             contact=contact, actor=actor)
    click.echo(f"Unidad regional {unit.code} «{unit.name}» agregada.")


@regional.command("edit")
@click.argument("code")
@click.option("--codigo", "new_code", default=None, help="Nuevo código.")
@click.option("--nombre", "name", default=None, help="Nuevo nombre.")
@click.option("--ciudad", "city", default=None, help="Nueva ciudad.")
@click.option("--direccion", "address", default=None, help="Nueva dirección.")
@click.option("--contacto", "contact", default=None, help="Nuevo contacto.")
@ACTOR
@click.pass_context
@friendly_errors
def regional_edit(ctx: click.Context, code: str, new_code: str | None, name: str | None,
                  city: str | None, address: str | None, contact: str | None, actor: str) -> None:
    """Modifica los datos de una unidad regional (solo los indicados)."""
    unit = update_regional_unit(get_services(ctx), code, new_code=new_code, name=name, city=city,
                                address=address, contact=contact, actor=actor)
    click.echo(f"Unidad regional {unit.code}: {unit.name}, {unit.city or '-'}, "
               f"{unit.address or '-'}, {unit.contact or '-'}.")


@click.group()
def supply() -> None:
    """Operaciones sobre suministros (renumerar, fusionar)."""


def _wake_indexer(svc) -> None:  # type: ignore[no-untyped-def]
    """Documents whose supply data changed are marked; ask the worker to reindex them now.

    If the queue cannot be reached, the worker's sweep finds the marked documents later.
    """
    from search import request_if_due

    if not wake(lambda: request_if_due(svc), "avisar al indexador", quiet=True):
        click.echo("Aviso: no se pudo avisar al trabajador; el índice se actualizará en su "
                   "próximo barrido.", err=True)


def _moved(report) -> None:  # type: ignore[no-untyped-def]
    verb = "renumerado" if report.kind == "renumerado" else "fusionado"
    click.echo(f"Suministro {report.old_nis} {verb} en {report.new_nis}: "
               f"{len(report.documents)} documento(s) movido(s).")
    if report.duplicates_dropped:
        click.echo(f"{report.duplicates_dropped} ya estaban vinculados a {report.new_nis}.")
    click.echo(f"El NIS {report.old_nis} sigue encontrando sus documentos en la búsqueda.")


@supply.command("renumber")
@click.argument("old")
@click.argument("new")
@ACTOR
@click.pass_context
@friendly_errors
def supply_renumber(ctx: click.Context, old: str, new: str, actor: str) -> None:
    """Cambia el NIS de un suministro (ANTERIOR NUEVO) y mueve sus documentos."""
    _moved(renumber_supply(get_services(ctx), old, new, actor=actor))
    _wake_indexer(get_services(ctx))


@supply.command("merge")
@click.argument("source")
@click.argument("target")
@ACTOR
@click.pass_context
@friendly_errors
def supply_merge(ctx: click.Context, source: str, target: str, actor: str) -> None:
    """Une el suministro ORIGEN en DESTINO: los documentos pasan a DESTINO."""
    _moved(merge_supplies(get_services(ctx), source, target, actor=actor))
    _wake_indexer(get_services(ctx))
