"""``archivo supply NIS [--json]``: the supply file on the command line.

The ``supply`` group already has ``renumber`` and ``merge`` (registry_cmd);
this module rebuilds the group so that a first argument that is not one of
its commands is read as a NIS (``archivo supply 1234567``), which is what a
clerk types. ``archivo supply ver NIS`` says the same explicitly, and
``archivo suministro`` is the Spanish name of the same group.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from archive.db import read_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import fmt_datetime
from archive.nis import normalize_nis
from archive.registry.supply_file import SupplyFile, load_supply_file, summarize_dispatches
from archive.services import Services

from . import registry_cmd
from .common import friendly_errors, get_services

SHOW = "ver"
HISTORY_SHOWN = 20


class SupplyGroup(click.Group):
    """A group whose unknown first word is a NIS for the ``ver`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "--json":  # "archivo supply --json NIS"
            args = [*args[1:], "--json"]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        first = args[0] if args else ""
        if first and first not in self.commands and not first.startswith("-"):
            return SHOW, self.commands[SHOW], args
        return super().resolve_command(ctx, args)


@click.group(cls=SupplyGroup)
def supply() -> None:
    """Ficha de un suministro (archivo supply NIS [--json]); renumerar y fusionar."""


@supply.command(SHOW)
@click.argument("nis")
@click.option("--json", "as_json", is_flag=True, help="Salida en JSON (claves en español).")
@click.pass_context
@friendly_errors
def show(ctx: click.Context, nis: str, as_json: bool) -> None:
    """Muestra la ficha del suministro: padrón, documentos, despachos e historial."""
    svc = get_services(ctx)
    clean = normalize_nis(nis)
    with read_scope(svc.sessions) as db:
        file = load_supply_file(db, clean)
    if file is None:
        raise ArchivoError(f"No hay datos del NIS {clean}: no figura en el padrón de "
                           "suministros ni tiene documentos vinculados.")
    _attach_dispatches(svc, file)
    if as_json:
        click.echo(json.dumps(file.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(file)


for _name, _command in registry_cmd.supply.commands.items():  # renumber, merge
    supply.add_command(_command, _name)


def register(cli: click.Group) -> None:
    """Replace registry_cmd's ``supply`` group with this one, also as ``suministro``."""
    cli.add_command(supply, "supply")
    cli.add_command(supply, "suministro")


def _attach_dispatches(svc: Services, file: SupplyFile) -> None:
    """The CLI is run by the people who run the archive: it sees every dispatch."""
    try:
        from dispatch import Actor, dispatches_for_supply
    except ImportError:
        return
    views = dispatches_for_supply(svc, Actor("cli", Role.ADMIN), file.nis)
    file.dispatches = summarize_dispatches(views, file.document_ids)


def _local(moment: dt.datetime | None) -> str:
    return fmt_datetime(moment) or "-"


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "sin fecha"


def _print(file: SupplyFile) -> None:
    echo = click.echo
    echo(f"Suministro NIS {file.nis}")
    if file.notice:
        echo(f"Aviso: {file.notice}")
    r = file.registry
    if r is None:
        echo("No figura en el padrón de suministros (solo hay documentos vinculados).")
    else:
        unit = f"{r.regional_unit_name} ({r.regional_unit_code})" if r.regional_unit_code else "-"
        rows: list[tuple[str, Any]] = [
            ("Titular", r.holder_name), ("Cédula/RUC", r.holder_document),
            ("Dirección", r.address), ("Ciudad", r.city), ("Unidad regional", unit),
            ("Tarifa", r.tariff), ("Estado", r.status_label)]
        for label, value in rows:
            echo(f"  {label + ':':17}{value or '-'}")
    if file.aliases:
        echo("NIS anteriores: " + ", ".join(f"{a.old_nis} ({a.kind} el {_local(a.created_at)})"
                                            for a in file.aliases))
    echo("")
    echo(f"Documentos ({len(file.documents)}):")
    if not file.groups:
        echo("  ninguno")
    for g in file.groups:
        echo(f"  {g.label} ({len(g.documents)})")
        for d in g.documents:
            link = d.link_source_label + (f" {round(d.link_confidence * 100)}%"
                                          if d.link_confidence < 1 else "")
            echo(f"    {d.archive_number}  {_day(d.document_date):10}  {d.page_count:>3} pág.  "
                 f"{d.status_label:13} {d.title}  [{link}]")
    if file.dispatches is not None:
        echo("")
        echo(f"Despachos ({len(file.dispatches)}):")
        if not file.dispatches:
            echo("  ninguno")
        for s in file.dispatches:
            back = " (devolución)" if s.is_return else ""
            echo(f"  {s.number}{back}  {s.state_label}  {s.destination}  "
                 f"enviado {_local(s.sent_at)}"
                 f"  recibido {_local(s.received_at)}  documentos: {', '.join(s.archive_numbers)}")
    echo("")
    shown = file.history[:HISTORY_SHOWN]
    more = (f" (últimos {len(shown)} de {len(file.history)})"
            if len(file.history) > len(shown) else "")
    echo(f"Historial{more}:")
    if not shown:
        echo("  sin cambios registrados")
    for h in shown:
        echo(f"  {_local(h.at)}  {h.actor}  {h.action_label}: {h.description}")
