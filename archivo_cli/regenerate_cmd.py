"""``archivo regenerar``: rebuild missing or damaged derivatives of finished documents."""

from __future__ import annotations

import click

from archive import fixity, keys
from archive.errors import ArchivoError
from archive.services import Services
from ingest import parse_number, regenerate_document

from .common import friendly_errors, get_services
from .runtime import require_initialized
from .search_cmd import _Bars

# Every original is stored under this prefix (see archive.keys.original_key).
_ORIGINALS = keys.original_key("0" * 64).split("/", 1)[0] + "/"


def _damaged(svc: Services, actor: str) -> list[str]:
    """A fresh full object check (recorded like any other); the documents it says to regenerate."""
    bars = _Bars()
    try:
        report = fixity.check_objects(svc, progress=bars)
    finally:
        bars.close()
    fixity.record_result(svc, report, actor=actor)
    originals = [k for k in report.missing + report.corrupted if k.startswith(_ORIGINALS)]
    click.echo(f"Verificación de objetos: {report.problems} problema(s); "
               f"{len(report.regenerate)} documento(s) con derivados faltantes o dañados.")
    if originals:
        click.secho(f"  {len(originals)} original(es) faltante(s) o dañado(s): no se regeneran; "
                    "restáurelos desde una bolsa («archivo import-bag BOLSA») o desde la copia "
                    "de seguridad (detalle en «archivo check --objetos»).", fg="red")
    return list(report.regenerate)


@click.command("regenerar")
@click.argument("numbers", nargs=-1, metavar="[NUMERO]...")
@click.option("--danados", "damaged", is_flag=True,
              help="Verificar todos los objetos ahora y regenerar cada documento con derivados "
                   "faltantes o dañados.")
@click.option("--completo", "everything", is_flag=True,
              help="Regenerar todos los derivados de cada documento, aunque estén bien.")
@click.option("--usuario", "actor", default="cli", show_default=True,
              help="Usuario que figura en la auditoría.")
@click.pass_context
@friendly_errors
def regenerar(ctx: click.Context, numbers: tuple[str, ...], damaged: bool, everything: bool,
              actor: str) -> None:
    """Regenera desde el original las imágenes, miniaturas, palabras y el PDF buscable.

    NUMERO es un número de archivo (ARC-AAAA-NNNNNN). Solo se reescriben los
    derivados faltantes o dañados (con --completo, todos); el texto, los NIS,
    el tipo, el estado y lo editado por personas no cambian. Sale con código 1
    si algún documento no se pudo regenerar. Detalles en docs/operacion.md.
    """
    if not numbers and not damaged:
        raise click.UsageError("Indique uno o más números ARC-AAAA-NNNNNN o «--danados».")
    svc = get_services(ctx)
    require_initialized(svc)
    targets: list[str] = []
    failed: list[str] = []
    for raw in numbers:
        try:
            number = parse_number(raw)
        except ArchivoError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            failed.append(raw)
            continue
        if number not in targets:
            targets.append(number)
    if damaged:
        targets += [n for n in _damaged(svc, actor) if n not in targets]
    done = nothing = 0
    for number in targets:
        try:
            result = regenerate_document(svc, number, actor=actor, everything=everything)
        except ArchivoError as exc:  # refused, storage down, Tesseract missing: go on
            click.secho(f"Error en {number}: {exc}", fg="red", err=True)
            failed.append(number)
            continue
        for line in result.lines():
            click.echo(line)
        if result.done:
            done += 1
        else:
            nothing += 1
    summary = (f"Resultado: {done} documento(s) regenerado(s), {nothing} sin nada que "
               f"regenerar, {len(failed)} con error.")
    if failed:
        click.secho(summary, fg="red")
        ctx.exit(1)
    click.secho(summary, fg="green" if done or nothing else None)
