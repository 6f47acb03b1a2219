"""``archivo export`` and ``archivo import-bag``: BagIt backups of documents."""

from __future__ import annotations

import logging

import click
from tqdm import tqdm

from archive.bag_export import Selection, export_bag
from archive.bag_import import ImportIncomplete, ImportReport, import_bag

from .common import friendly_errors, get_services
from .runtime import require_initialized

log = logging.getLogger(__name__)


@click.command("export")
@click.argument("seleccion", nargs=-1)
@click.argument("destino")
@click.option("--todo", "everything", is_flag=True, help="Exportar todos los documentos.")
@click.pass_context
@friendly_errors
def export(ctx: click.Context, seleccion: tuple[str, ...], destino: str, everything: bool) -> None:
    """Exporta documentos a una bolsa BagIt en DESTINO.

    SELECCION: uno o más NIS o números ARC-AAAA-NNNNNN (o «--todo»). DESTINO
    no debe existir o debe ser una carpeta vacía.
    """
    svc = get_services(ctx)
    require_initialized(svc)
    selection = Selection.parse(seleccion, everything)
    with tqdm(desc="Exportando", unit="doc") as bar:
        report = export_bag(svc, selection, destino, progress=lambda _n: bar.update(1))
    for warning in report.warnings:
        click.secho(f"Aviso: {warning}", fg="yellow", err=True)
    mb = report.bytes / (1024 * 1024)
    click.echo(f"Bolsa creada en {report.path}: {len(report.documents)} documento(s), "
               f"{report.supplies} suministro(s), {report.files} archivo(s), {mb:.1f} MB.")


@click.command("import-bag")
@click.argument("bolsa")
@click.option("--usuario", "actor", default="cli", show_default=True,
              help="Usuario que figura en la auditoría de la restauración.")
@click.pass_context
@friendly_errors
def import_bag_cmd(ctx: click.Context, bolsa: str, actor: str) -> None:
    """Verifica la bolsa BagIt BOLSA y restaura sus documentos sin duplicarlos."""
    svc = get_services(ctx)
    require_initialized(svc)
    click.echo("Verificando la bolsa (sumas SHA-256 de todos los archivos)…", err=True)
    try:
        with tqdm(desc="Restaurando", unit="doc") as bar:
            report = import_bag(svc, bolsa, actor=actor, progress=lambda _n: bar.update(1))
    except ImportIncomplete as exc:  # what was restored is complete: index it, then say it stopped
        wake(svc, exc.report)
        raise
    wake(svc, report)
    _summary(report)


def wake(svc, report: ImportReport) -> None:  # type: ignore[no-untyped-def]
    """Ask the indexer (and the OCR worker, for unprocessed documents) to pick them up.

    If the queue is unreachable the documents stay due: the worker's sweep finds them.
    """
    from ingest import enqueue_processing
    from search import request_indexing

    try:
        if report.to_index:
            request_indexing(svc)
        for doc_id in report.to_process:
            enqueue_processing(svc, doc_id)
    except Exception:  # noqa: BLE001
        log.warning("no se pudo avisar a la cola; el barrido del trabajador lo retomará",
                    exc_info=True)


def _numbers(numbers: list[str], shown: int = 20) -> str:
    more = len(numbers) - shown
    return ", ".join(numbers[:shown]) + (f" y {more} más" if more > 0 else "")


def _summary(report: ImportReport) -> None:
    click.echo(f"Documentos restaurados: {len(report.created)}; ya estaban: "
               f"{len(report.reused)}; completados: {len(report.updated)}.")
    for label, numbers in (("Restaurados", report.created), ("Completados", report.updated)):
        if numbers:
            click.echo(f"  {label}: {_numbers(numbers)}.")
    for old, new in sorted(report.renumbered.items()):
        click.echo(f"  {old} ya estaba en uso: se restauró como {new}.")
    if report.objects_repaired:
        click.echo(f"Objetos repuestos en el almacenamiento: {report.objects_repaired}.")
    click.echo(f"Suministros agregados: {report.supplies_created}; alias: "
               f"{report.aliases_created}; unidades regionales: {report.units_created}.")
    if report.to_index:
        click.echo(f"{len(report.to_index)} documento(s) quedan para indexar; el trabajador "
                   "(«archivo worker» o «archivo serve») los agrega al índice de búsqueda.")
