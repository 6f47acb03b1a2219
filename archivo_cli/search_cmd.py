"""``archivo search``, ``archivo reindex`` and ``archivo check``: search from the command line."""

from __future__ import annotations

import html
import json
import re
import time

import click
from tqdm import tqdm

from archive.services import Services
from search.check import IndexReport, check_consistency, repair
from search.indexer import rebuild
from search.lock import exclusive_writer, release_stale_lock
from search.query import MAX_PER_PAGE, SORTS
from search.query import search as run_search
from search.results import MODE_EXACT, SearchResults

from .common import friendly_errors, get_services
from .runtime import require_initialized

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SHOWN_IDS = 10


def _terminal_snippet(snippet: str) -> str:
    """The HTML snippet for a terminal: hits in bold, entities decoded, no control characters."""
    def plain(part: str) -> str:
        return _CONTROL.sub(" ", html.unescape(part))

    out, pos = [], 0
    for m in _MARK.finditer(snippet):
        out.append(plain(snippet[pos:m.start()]))
        out.append(click.style(plain(m.group(1)), bold=True, fg="yellow"))
        pos = m.end()
    out.append(plain(snippet[pos:]))
    return "".join(out)


def _print_results(res: SearchResults) -> None:
    if res.message:
        click.echo(res.message)
    noun = "documento" if res.total == 1 else "documentos"
    click.echo(f"{res.total} {noun} — página {res.page} de {res.pages}, orden: {res.sort}")
    first = (res.page - 1) * res.per_page
    for n, h in enumerate(res.hits, start=first + 1):
        date = h.document_date.isoformat() if h.document_date else "sin fecha"
        nis = f"NIS {', '.join(h.nis)}" if h.nis else "sin NIS"
        score = "" if h.score is None or res.mode == MODE_EXACT else f"  puntaje {h.score:.2f}"
        click.echo(f"{n:3}. {h.archive_number}  {h.doc_type_label}  {date}  {nis}  "
                   f"pág. {h.page}{score}")
        if h.snippet:
            click.echo(f"     {_terminal_snippet(h.snippet)}")
    names = {"tipo": "Por tipo", "regional": "Por unidad regional", "anio": "Por año"}
    for key, label in names.items():
        counts = res.facets.get(key) or []
        if counts:
            click.echo(f"{label}: " + " · ".join(f"{f.label} ({f.count})" for f in counts))


# ignore_unknown_options: "-heladera" in a query is an exclusion, not an unknown option.
@click.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--json", "as_json", is_flag=True, help="Resultado completo en JSON.")
@click.option("--pagina", "page", default=1, show_default=True, type=click.IntRange(min=1),
              help="Página de resultados.")
@click.option("--por-pagina", "per_page", default=20, show_default=True,
              type=click.IntRange(1, MAX_PER_PAGE), help="Documentos por página.")
@click.option("--orden", "sort", default="relevancia", show_default=True,
              type=click.Choice(SORTS), help="Orden de los resultados.")
@click.option("--aproximada", "fuzzy", is_flag=True,
              help="Tolerar errores de reconocimiento (una letra de diferencia).")
@click.pass_context
@friendly_errors
def search(ctx: click.Context, query: tuple[str, ...], as_json: bool, page: int, per_page: int,
           sort: str, fuzzy: bool) -> None:
    """Busca documentos: palabras, "frases", -excluir, nis:, tipo:, fecha:2020..2024, ci:, ...

    Un NIS, una cédula o un número de archivo solos se responden desde la base de datos.
    La sintaxis completa está en docs/busqueda.md.
    """
    svc = get_services(ctx)
    require_initialized(svc)
    res = run_search(svc, " ".join(query), page=page, per_page=per_page, sort=sort, fuzzy=fuzzy,
                     boxes=as_json)
    if as_json:
        click.echo(json.dumps(res.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_results(res)


def _bar(total: int) -> tqdm:
    return tqdm(total=total, desc="Indexando", unit="doc")


@click.command("reindex")
@click.option("--lote", "batch", default=500, show_default=True, type=click.IntRange(1, 10000),
              help="Documentos por lote (cada lote se confirma por separado).")
@click.option("--liberar-bloqueo", "release", is_flag=True,
              help="Quitar el bloqueo dejado por un proceso interrumpido antes de empezar.")
@click.pass_context
@friendly_errors
def reindex(ctx: click.Context, batch: int, release: bool) -> None:
    """Reconstruye el índice de búsqueda desde la base de datos, por lotes.

    Mientras dura, las búsquedas de texto devuelven resultados parciales; las
    búsquedas por NIS, cédula o número de archivo siguen completas.
    """
    svc = get_services(ctx)
    require_initialized(svc)
    if release and release_stale_lock(svc):
        click.echo("Se quitó un bloqueo del índice que había quedado de otro proceso.")
    started = time.monotonic()
    bars: list[tqdm] = []
    with exclusive_writer(svc):
        try:
            done = rebuild(svc, batch=batch, on_start=lambda total: bars.append(_bar(total)),
                           progress=lambda n: bars[0].update(n) if bars else None)
        finally:
            for bar in bars:
                bar.close()
    click.echo(f"Índice reconstruido: {done} documento(s) en {time.monotonic() - started:.1f} s.")


def _ids(report: IndexReport, ids: set[int]) -> str:
    shown = [report.numbers.get(i, f"id {i}") for i in sorted(ids)[:_SHOWN_IDS]]
    more = f" y {len(ids) - _SHOWN_IDS} más" if len(ids) > _SHOWN_IDS else ""
    return ", ".join(shown) + more


def _print_report(svc: Services, report: IndexReport) -> None:
    from search.index import STATE_MESSAGES, IndexState

    click.echo(f"Índice de búsqueda: {svc.settings.index_dir}")
    if report.state is not IndexState.OK:
        click.secho(f"  Problema: {STATE_MESSAGES[report.state]}.", fg="red")
        return
    click.echo(f"  Documentos buscables en la base: {report.documents} "
               f"({report.expected_entries} página(s))")
    click.echo(f"  Entradas en el índice: {report.index_entries}")
    for label, ids in (("Faltan en el índice", report.missing),
                       ("Desactualizados", report.stale),
                       ("Sobran en el índice", report.extra)):
        if ids:
            click.secho(f"  {label}: {len(ids)} documento(s): {_ids(report, ids)}", fg="red")
    if report.pending:
        click.echo(f"  A la espera del indexador (no es un error): {len(report.pending)} "
                   f"documento(s)")


@click.command("check")
@click.option("--indice", "index", is_flag=True,
              help="Comparar la base de datos con el índice de búsqueda.")
@click.option("--reparar", "fix", is_flag=True, help="Corregir lo que se encuentre.")
@click.option("--liberar-bloqueo", "release", is_flag=True,
              help="Con --reparar: quitar el bloqueo dejado por un proceso interrumpido.")
@click.pass_context
@friendly_errors
def check(ctx: click.Context, index: bool, fix: bool, release: bool) -> None:
    """Verifica el archivo (hoy: el índice de búsqueda) y, con --reparar, lo corrige.

    Sale con código 1 si quedan problemas.
    """
    svc = get_services(ctx)
    require_initialized(svc)
    del index  # the index is the only check so far: it runs with or without --indice
    report = check_consistency(svc)
    _print_report(svc, report)
    if not report.ok and fix:
        if release and release_stale_lock(svc):
            click.echo("Se quitó un bloqueo del índice que había quedado de otro proceso.")
        click.echo("Reparando...")
        with exclusive_writer(svc):
            report = repair(svc, report)
        _print_report(svc, report)
    if report.ok:
        click.secho("Resultado: sin problemas.", fg="green")
        return
    click.secho(f"Resultado: {report.problems} problema(s). "
                "Ejecute «archivo check --indice --reparar».", fg="red")
    ctx.exit(1)
