"""Courier dispatch commands: ``archivo despacho ...`` (alias ``archivo dispatch``).

The CLI is run on the server by its operator: ``--usuario`` names who acts.
If that name is a user of the archive, its role and unit apply (a regional
user can only confirm its own unit's dispatches, as on the web); any other
name acts as an administrator, like the other commands.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

import click
from sqlalchemy import select

import dispatch as dsp
from archive.db import read_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import fmt_date, fmt_datetime, local_today
from archive.models import User
from archive.services import Services
from dispatch import UnknownUnit, csv_bytes

from .common import friendly_errors, get_services

ACTOR = click.option("--usuario", "username", default="cli", show_default=True,
                     help="Quién actúa (figura en el historial y la auditoría).")
DAY = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])
MONTH = click.DateTime(formats=["%Y-%m", "%m/%Y"])
F = TypeVar("F", bound=Callable[..., Any])


def unit_hint(func: F) -> F:
    """An unknown regional unit: point at this command line's own list of units."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UnknownUnit as exc:
            raise ArchivoError(f"{exc} Vea la lista con «archivo regional list».") from None

    return wrapper  # type: ignore[return-value]


def _actor(svc: Services, username: str) -> dsp.Actor:
    with read_scope(svc.sessions) as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is not None:
            if not user.active:
                raise ArchivoError(f"El usuario «{user.username}» está desactivado.")
            return dsp.Actor.from_user(user)
    return dsp.Actor(username, Role.ADMIN)


def _ctx(ctx: click.Context, username: str) -> tuple[Services, dsp.Actor]:
    svc = get_services(ctx)
    return svc, _actor(svc, username)


def _line(d: dsp.DispatchView) -> str:
    return (f"{d.number:16} {d.state_label:27} {d.regional_unit_code:6} "
            f"{'devolución' if d.is_return else 'envío':10} {d.courier or '-':20} "
            f"{d.guide_number or '-':14} {fmt_date(d.sent_at) or '-':10} "
            f"{fmt_date(d.expected_delivery) or '-'}")


HEADER = (f"{'NÚMERO':16} {'ESTADO':27} {'UNIDAD':6} {'SENTIDO':10} {'TRANSPORTISTA':20} "
          f"{'GUÍA':14} {'ENVIADO':10} PREVISTO")


def _show(d: dsp.DispatchView) -> None:
    click.echo(f"Despacho {d.number}: {d.state_label}")
    if d.return_of_number:
        click.echo(f"  Devolución del despacho {d.return_of_number}")
    rows = [("Origen", d.origin), ("Destino", d.destination),
            ("Transportista", d.courier), ("Guía", d.guide_number),
            ("Creado", f"{fmt_date(d.created_at)} por {d.created_by}"),
            ("Preparado", fmt_date(d.prepared_at)), ("Enviado", fmt_date(d.sent_at)),
            ("Entrega prevista", fmt_date(d.expected_delivery)),
            ("Recibido", fmt_date(d.received_at)), ("Notas", d.notes),
            ("Motivo de anulación", d.annul_reason)]
    for label, value in rows:
        if value:
            click.echo(f"  {label + ':':21} {value}")
    click.echo(f"Ítems ({len(d.items)}, {d.total_sheets} fojas):")
    for it in d.items:
        nis = f" NIS {', '.join(it.nis)}" if it.nis else ""
        sheets = f", {it.sheets} fojas" if it.sheets is not None else ""
        outcome = ""
        if it.outcome is not None:
            outcome = f" -> {it.outcome.label}"
            if it.outcome_note:
                outcome += f" ({it.outcome_note})"
            if it.resolved:
                outcome += f" [resuelto: {it.resolution_note}]"
        click.echo(f"  #{it.id} {it.reference} · {it.doc_type}{nis}{sheets} · "
                   f"{it.copy_label}{outcome}")
    click.echo("Historial (hora de Paraguay):")
    for e in d.events:
        note = f": {e.note}" if e.note else ""
        click.echo(f"  {fmt_datetime(e.at)} {e.actor} · {e.label} ({e.state_text}){note}")


@click.group("despacho")
def despacho() -> None:
    """Encomiendas a las unidades regionales: envíos, recepción, vencidos e informes."""


@despacho.command("crear")
@click.argument("destino")
@click.option("--origen", default=None, help="Origen (predeterminado: el archivo).")
@click.option("--notas", default="", help="Notas del despacho.")
@ACTOR
@click.pass_context
@friendly_errors
@unit_hint
def create(ctx: click.Context, destino: str, origen: str | None, notas: str,
           username: str) -> None:
    """Crea un despacho en borrador a la unidad DESTINO (código o nombre)."""
    svc, actor = _ctx(ctx, username)
    d = dsp.create_dispatch(svc, actor, destino, origin=origen, notes=notas)
    click.echo(f"Despacho {d.number} creado en borrador para {d.destination}.")


@despacho.command("agregar")
@click.argument("numero")
@click.option("--documento", "-d", "documents", multiple=True,
              help="Número de archivo (ARC-AAAA-NNNNNN) o lectura de su etiqueta. Repetible.")
@click.option("--copia", is_flag=True, help="Los documentos van como copia, no original.")
@click.option("--carpeta", "folders", multiple=True,
              help="Código de etiqueta de una carpeta o caja. Repetible.")
@click.option("--texto", default=None, help="Ítem de texto libre, por ejemplo «antecedentes».")
@click.option("--fojas", type=click.IntRange(0), default=None,
              help="Fojas del ítem de texto o de la carpeta.")
@ACTOR
@click.pass_context
@friendly_errors
def add(ctx: click.Context, numero: str, documents: tuple[str, ...], copia: bool,
        folders: tuple[str, ...], texto: str | None, fojas: int | None, username: str) -> None:
    """Agrega ítems a un despacho en borrador."""
    if not (documents or folders or texto):
        raise ArchivoError("Indique qué agregar: --documento, --carpeta o --texto.")
    svc, actor = _ctx(ctx, username)
    for ref in documents:
        it = dsp.add_document(svc, actor, numero, archive_number=ref, original=not copia)
        click.echo(f"Agregado #{it.id}: {it.archive_number} ({it.copy_label.lower()}).")
    for label in folders:
        it = dsp.add_folder(svc, actor, numero, label, sheets=fojas if not texto else None)
        click.echo(f"Agregado #{it.id}: carpeta o caja {it.label_code}.")
    if texto:
        it = dsp.add_text(svc, actor, numero, texto, sheets=fojas, original=not copia)
        click.echo(f"Agregado #{it.id}: {it.description} ({it.sheets} fojas).")


@despacho.command("quitar")
@click.argument("numero")
@click.argument("item", type=int)
@ACTOR
@click.pass_context
@friendly_errors
def remove(ctx: click.Context, numero: str, item: int, username: str) -> None:
    """Quita el ítem ITEM (su número, #) de un despacho en borrador."""
    svc, actor = _ctx(ctx, username)
    dsp.remove_item(svc, actor, numero, item)
    click.echo(f"Ítem #{item} quitado.")


def _transition(name: str, fn, help_text: str, done: str):  # type: ignore[no-untyped-def]
    """``preparar`` and ``reabrir`` differ only in the service call and the words."""

    @despacho.command(name, help=help_text)
    @click.argument("numero")
    @click.option("--nota", default="", help="Nota para el historial.")
    @ACTOR
    @click.pass_context
    @friendly_errors
    def command(ctx: click.Context, numero: str, nota: str, username: str) -> None:
        svc, actor = _ctx(ctx, username)
        d = fn(svc, actor, numero, note=nota)
        click.echo(f"Despacho {d.number}: {d.state_label}. {done}")

    return command


prepare = _transition("preparar", dsp.prepare,
                      "Marca el despacho como preparado (nota impresa, paquete cerrado).",
                      "Imprima la nota de remisión con «archivo despacho manifiesto».")
reopen = _transition("reabrir", dsp.reopen,
                     "Vuelve un despacho preparado a borrador para cambiar sus ítems.",
                     "La nota de remisión impresa ya no vale.")


@despacho.command("enviar")
@click.argument("numero")
@click.option("--transportista", required=True, help="Servicio de encomiendas.")
@click.option("--guia", required=True, help="Número de guía del servicio.")
@click.option("--fecha", type=DAY, default=None, help="Día de entrega al transportista (hoy).")
@click.option("--entrega-prevista", "expected", type=DAY, default=None,
              help="Fecha prevista de entrega (predeterminada: según el plazo de la unidad).")
@click.option("--nota", default="", help="Nota para el historial.")
@ACTOR
@click.pass_context
@friendly_errors
def send(ctx: click.Context, numero: str, transportista: str, guia: str, fecha: dt.datetime | None,
         expected: dt.datetime | None, nota: str, username: str) -> None:
    """Registra la entrega del paquete al servicio de encomiendas."""
    svc, actor = _ctx(ctx, username)
    sent_on = fecha.date() if fecha is not None else None  # a day in Paraguay
    d = dsp.send(svc, actor, numero, courier=transportista, guide_number=guia, sent_at=sent_on,
                 expected_delivery=expected.date() if expected else None, note=nota)
    click.echo(f"Despacho {d.number} enviado por {d.courier}, guía {d.guide_number}; "
               f"entrega prevista el {fmt_date(d.expected_delivery)}.")


@despacho.command("recibir")
@click.argument("numero")
@click.option("--faltante", "missing", multiple=True,
              help="Ítem que no llegó (número #, número de archivo o etiqueta). Repetible.")
@click.option("--danado", "damaged", multiple=True, help="Ítem que llegó dañado. Repetible.")
@click.option("--nota-item", "item_notes", multiple=True,
              help="Nota de un ítem observado: ÍTEM=texto. Repetible.")
@click.option("--nota", default="", help="Nota general de la recepción.")
@click.option("--fecha", type=DAY, default=None, help="Día en que llegó el paquete (hoy).")
@ACTOR
@click.pass_context
@friendly_errors
def receive(ctx: click.Context, numero: str, missing: tuple[str, ...], damaged: tuple[str, ...],
            item_notes: tuple[str, ...], nota: str, fecha: dt.datetime | None,
            username: str) -> None:
    """Confirma la recepción; los ítems no indicados como faltantes o dañados llegaron bien."""
    notes: dict[str, str] = {}
    for pair in item_notes:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ArchivoError(f"«{pair}» no tiene la forma ÍTEM=texto.")
        notes[key.strip()] = text.strip()
    unknown = set(notes) - set(missing) - set(damaged)
    if unknown:
        raise ArchivoError("Las notas de ítem son para faltantes o dañados: "
                           + ", ".join(sorted(unknown)) + ".")
    receipts = [dsp.ItemReceipt(k, dsp.ItemOutcome.FALTANTE, notes.get(k, "")) for k in missing]
    receipts += [dsp.ItemReceipt(k, dsp.ItemOutcome.DANADO, notes.get(k, "")) for k in damaged]
    svc, actor = _ctx(ctx, username)
    d = dsp.receive(svc, actor, numero, receipts, note=nota,
                    received_at=fecha.date() if fecha is not None else None)
    click.echo(f"Despacho {d.number}: {d.state_label}.")
    for it in d.items:
        if it.is_discrepancy and it.outcome is not None:
            click.echo(f"  {it.outcome.label}: {it.reference}"
                       + (f" ({it.outcome_note})" if it.outcome_note else ""))


@despacho.command("devolver")
@click.argument("numero")
@click.option("--copias", is_flag=True, help="Incluir también las copias.")
@click.option("--notas", default="", help="Notas de la devolución.")
@ACTOR
@click.pass_context
@friendly_errors
def give_back(ctx: click.Context, numero: str, copias: bool, notas: str, username: str) -> None:
    """Crea la devolución (viaje de vuelta) de un despacho recibido, con sus originales."""
    svc, actor = _ctx(ctx, username)
    d = dsp.create_return(svc, actor, numero, include_copies=copias, notes=notas)
    click.echo(f"Devolución {d.number} creada en borrador con {len(d.items)} ítems.")


@despacho.command("anular")
@click.argument("numero")
@click.option("--motivo", required=True, help="Por qué se anula.")
@ACTOR
@click.pass_context
@friendly_errors
def annul(ctx: click.Context, numero: str, motivo: str, username: str) -> None:
    """Anula un despacho que todavía no salió (borrador o preparado)."""
    svc, actor = _ctx(ctx, username)
    d = dsp.annul(svc, actor, numero, motivo)
    click.echo(f"Despacho {d.number} anulado: {d.annul_reason}.")


@despacho.command("resolver")
@click.argument("numero")
@click.argument("item")
@click.option("--nota", required=True, help="Cómo se resolvió (apareció, se repuso, ...).")
@ACTOR
@click.pass_context
@friendly_errors
def resolve(ctx: click.Context, numero: str, item: str, nota: str, username: str) -> None:
    """Da por resuelta la observación (faltante o dañado) de un ítem."""
    svc, actor = _ctx(ctx, username)
    it = dsp.resolve_item(svc, actor, numero, item, nota)
    click.echo(f"Observación de {it.reference} resuelta.")


@despacho.command("ver")
@click.argument("numero")
@ACTOR
@click.pass_context
@friendly_errors
def show(ctx: click.Context, numero: str, username: str) -> None:
    """Muestra un despacho con sus ítems y su historial."""
    svc, actor = _ctx(ctx, username)
    _show(dsp.get_dispatch(svc, actor, numero))


@despacho.command("lista")
@click.option("--estado", default=None, help="borrador, preparado, enviado, recibido, ...")
@click.option("--destino", default=None, help="Código o nombre de la unidad regional.")
@click.option("--transportista", default=None, help="Servicio de encomiendas.")
@click.option("--limite", type=click.IntRange(1, 10_000), default=50, show_default=True)
@ACTOR
@click.pass_context
@friendly_errors
@unit_hint
def list_(ctx: click.Context, estado: str | None, destino: str | None,
          transportista: str | None, limite: int, username: str) -> None:
    """Lista los despachos, del más nuevo al más antiguo."""
    svc, actor = _ctx(ctx, username)
    rows = dsp.list_dispatches(svc, actor, state=estado, destination=destino,
                               courier=transportista, limit=limite)
    if not rows:
        click.echo("No hay despachos con esos filtros.")
        return
    click.echo(HEADER)
    for d in rows:
        click.echo(_line(d))


@despacho.command("vencidos")
@click.option("--fecha", type=DAY, default=None, help="Día de referencia (hoy).")
@ACTOR
@click.pass_context
@friendly_errors
def overdue(ctx: click.Context, fecha: dt.datetime | None, username: str) -> None:
    """Despachos enviados que no se recibieron en el plazo previsto."""
    svc, actor = _ctx(ctx, username)
    today = fecha.date() if fecha else local_today()
    rows = dsp.overdue_dispatches(svc, actor, today=today)
    if not rows:
        click.echo(f"No hay despachos vencidos al {fmt_date(today)}.")
        return
    click.echo(f"{len(rows)} despacho(s) vencido(s) al {fmt_date(today)}:")
    click.echo(f"{'DÍAS':>4}  {HEADER}")
    for o in rows:
        click.echo(f"{o.days_late:>4}  {_line(o.dispatch)}")


@despacho.command("informe")
@click.option("--desde", type=MONTH, default=None, help="Primer mes, AAAA-MM (este mes).")
@click.option("--hasta", type=MONTH, default=None, help="Último mes, AAAA-MM (el de --desde).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Guarda el informe en este archivo CSV (separado por punto y coma).")
@ACTOR
@click.pass_context
@friendly_errors
def report(ctx: click.Context, desde: dt.datetime | None, hasta: dt.datetime | None,
           csv_path: Path | None, username: str) -> None:
    """Informe mensual por unidad regional: enviados, recibidos, días de tránsito, vencidos."""
    svc, actor = _ctx(ctx, username)
    first = desde.date() if desde else local_today().replace(day=1)
    last = hasta.date() if hasta else first
    if last < first:
        raise ArchivoError("--hasta es anterior a --desde.")
    rows = dsp.monthly_report(svc, actor, first=first, last=last)
    if csv_path is not None:
        csv_path.write_bytes(csv_bytes(rows))
        click.echo(f"Informe guardado en {csv_path} ({len(rows)} filas).")
        return
    if not rows:
        click.echo("No hubo despachos enviados en ese período.")
        return
    click.echo(f"{'MES':8} {'UNIDAD':6} {'SENTIDO':10} {'ENV':>4} {'REC':>4} {'DÍAS':>5} "
               f"{'VENC':>4} {'TARDE':>5} {'FALT':>4} {'DAÑ':>4} {'SIN RES':>7}")
    for r in rows:
        avg = r.avg_transit_text or "-"
        click.echo(f"{r.month:8} {r.unit_code:6} {r.direction:10} {r.sent:>4} {r.received:>4} "
                   f"{avg:>5} {r.overdue:>4} {r.late:>5} {r.missing:>4} {r.damaged:>4} "
                   f"{r.unresolved:>7}")


@despacho.command("manifiesto")
@click.argument("numero")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@ACTOR
@click.pass_context
@friendly_errors
def manifest(ctx: click.Context, numero: str, path: Path, username: str) -> None:
    """Guarda en PATH la nota de remisión interna (PDF con código QR de recepción)."""
    svc, actor = _ctx(ctx, username)
    path.write_bytes(dsp.manifest_pdf(svc, actor, numero))
    click.echo(f"Nota de remisión guardada en {path}.")


@despacho.command("donde")
@click.argument("referencia")
@click.pass_context
@friendly_errors
def where(ctx: click.Context, referencia: str) -> None:
    """Dónde está un original: número de archivo o código de etiqueta de carpeta o caja."""
    from dispatch import archive_number, label_code

    svc = get_services(ctx)
    number = archive_number(referencia)
    if number is not None:
        from archive.models import Document

        with read_scope(svc.sessions) as session:
            doc_id = session.scalar(select(Document.id).where(Document.archive_number == number))
        if doc_id is None:
            raise ArchivoError(f"No existe el documento {number} en el archivo.")
        place = dsp.where_is(svc, document_id=doc_id)
        click.echo(f"{number}: {place.text}.")
        return
    code = label_code(referencia)
    click.echo(f"{code}: {dsp.where_is(svc, label_code=code).text}.")


@despacho.group("transportistas")
def couriers() -> None:
    """Servicios de encomiendas que se pueden elegir al enviar."""


@couriers.command("lista")
@click.option("--todos", is_flag=True, help="Incluir los deshabilitados.")
@click.pass_context
@friendly_errors
def couriers_list(ctx: click.Context, todos: bool) -> None:
    """Lista los servicios de encomiendas."""
    rows = dsp.list_couriers(get_services(ctx), include_inactive=todos)
    if not rows:
        click.echo("No hay servicios de encomiendas. Agregue uno con «archivo despacho "
                   "transportistas agregar NOMBRE».")
    for c in rows:
        click.echo(c.name + ("" if c.active else " (deshabilitado)"))


@couriers.command("agregar")
@click.argument("nombre")
@ACTOR
@click.pass_context
@friendly_errors
def couriers_add(ctx: click.Context, nombre: str, username: str) -> None:
    """Agrega un servicio de encomiendas."""
    svc, actor = _ctx(ctx, username)
    c = dsp.add_courier(svc, actor, nombre)
    click.echo(f"Servicio de encomiendas «{c.name}» agregado.")


@couriers.command("deshabilitar")
@click.argument("nombre")
@ACTOR
@click.pass_context
@friendly_errors
def couriers_off(ctx: click.Context, nombre: str, username: str) -> None:
    """Deshabilita un servicio (los despachos anteriores lo conservan)."""
    svc, actor = _ctx(ctx, username)
    c = dsp.set_courier_active(svc, actor, nombre, False)
    click.echo(f"Servicio «{c.name}» deshabilitado.")


@couriers.command("habilitar")
@click.argument("nombre")
@ACTOR
@click.pass_context
@friendly_errors
def couriers_on(ctx: click.Context, nombre: str, username: str) -> None:
    """Vuelve a habilitar un servicio."""
    svc, actor = _ctx(ctx, username)
    c = dsp.set_courier_active(svc, actor, nombre, True)
    click.echo(f"Servicio «{c.name}» habilitado.")


@despacho.group("plazos")
def transit() -> None:
    """Días de tránsito previstos por unidad regional."""


@transit.command("lista")
@click.pass_context
@friendly_errors
def transit_list(ctx: click.Context) -> None:
    """Muestra el plazo de cada unidad."""
    for t in dsp.list_transit_days(get_services(ctx)):
        mark = "" if t.configured else " (predeterminado)"
        click.echo(f"{t.unit_code:8} {t.unit_name:28} {t.days} días{mark}")


@transit.command("fijar")
@click.argument("unidad")
@click.argument("dias", type=click.IntRange(0, 365))
@ACTOR
@click.pass_context
@friendly_errors
@unit_hint
def transit_set(ctx: click.Context, unidad: str, dias: int, username: str) -> None:
    """Fija los días de tránsito a UNIDAD (vale para los próximos envíos)."""
    svc, actor = _ctx(ctx, username)
    t = dsp.set_transit_days(svc, actor, unidad, dias)
    click.echo(f"Plazo a {t.unit_name}: {t.days} días.")


# The issue calls it «archivo dispatch vencidos»: the same commands under a hidden English name.
dispatch_alias = click.Group("dispatch", commands=despacho.commands, hidden=True,
                             help=despacho.help)


def register(cli: click.Group) -> None:
    """Adds ``despacho`` and its hidden alias ``dispatch`` to the main command."""
    cli.add_command(despacho)
    cli.add_command(dispatch_alias)
