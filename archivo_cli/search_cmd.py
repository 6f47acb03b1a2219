"""``archivo search``, ``archivo reindex`` and ``archivo check`` (objects, audit chain, index)."""

from __future__ import annotations

import html
import json
import re
import sys
import time

import click
from tqdm import tqdm

from archive import audit_anchor, fixity
from archive.localtime import fmt_date
from archive.services import Services
from search import (MAX_PER_PAGE, MODE_EXACT, REBUILD_BATCH, SORTS, IndexReport, SearchResults,
                    check_consistency, exclusive_writer, rebuild, release_stale_lock, repair)
from search import search as run_search

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
        date = fmt_date(h.document_date) if h.document_date else "sin fecha"
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
@click.option("--lote", "batch", default=REBUILD_BATCH, show_default=True,
              type=click.IntRange(1, 10000),
              help="Documentos por lote (cada lote se confirma por separado).")
@click.option("--liberar-bloqueo", "release", is_flag=True,
              help="Quitar el bloqueo dejado por un proceso interrumpido antes de empezar.")
@click.option("--procesos", "workers", default=None, type=click.IntRange(1, 64),
              help="Procesos que escriben lotes a la vez (por defecto, uno por núcleo).")
@click.pass_context
@friendly_errors
def reindex(ctx: click.Context, batch: int, release: bool, workers: int | None) -> None:
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
                           progress=lambda n: bars[0].update(n) if bars else None,
                           workers=workers)
        finally:
            for bar in bars:
                bar.close()
    click.echo(f"Índice reconstruido: {done} documento(s) en {time.monotonic() - started:.1f} s.")


def _ids(report: IndexReport, ids: set[int]) -> str:
    shown = [report.numbers.get(i, f"id {i}") for i in sorted(ids)[:_SHOWN_IDS]]
    more = f" y {len(ids) - _SHOWN_IDS} más" if len(ids) > _SHOWN_IDS else ""
    return ", ".join(shown) + more


def _print_report(svc: Services, report: IndexReport) -> None:
    from search import STATE_MESSAGES, IndexState

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


class _Bars:
    """fixity.Progress drawn as tqdm bars on stderr (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def stage(self, label: str, total: int | None) -> None:
        self.close()
        self.bar = tqdm(total=total, desc=label, unit="obj", file=sys.stderr, disable=None,
                        leave=False)

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _lines(title: str, lines: list[str], *, problem: bool = True) -> None:
    if not lines:
        return
    click.secho(f"  {title}: {len(lines)}", fg="red" if problem else None)
    for line in lines[:fixity.SHOWN]:
        click.secho(f"    - {line}", fg="red" if problem else None)
    if len(lines) > fixity.SHOWN:
        click.echo(f"    ... y {len(lines) - fixity.SHOWN} más")


def _print_objects(report: fixity.FixityReport, clean: bool) -> None:
    mode = ("completa" if report.mode == "completo"
            else "por muestra (los menos recientemente verificados)")
    click.echo(f"Objetos almacenados: verificación {mode}")
    if report.mode == "completo":
        click.echo(f"  Objetos en el almacenamiento: {report.listed}")
    click.echo(f"  Verificados con SHA-256: {report.hashed} "
               f"({report.hashed_bytes / 1_000_000:.1f} MB leídos en total)")
    click.echo(f"  Derivados de página presentes: {report.derivatives}")
    click.echo(f"  Derivados de página verificados con SHA-256: {report.derivatives_hashed}")
    if report.unsummed:
        click.echo(f"  Derivados de página sin suma registrada (solo se comprobó que existen): "
                   f"{report.unsummed}")
    if report.registered:
        click.echo(f"  Sumas registradas ahora: {report.registered}")
    elif report.unsummed:
        click.echo("  Para registrar sus sumas: «archivo check --objetos --registrar-sumas».")
    if report.skipped:
        click.echo(f"  Omitidos (un trabajador los está regenerando): {report.skipped}")
    _lines("Faltan (registrados en la base, ausentes en el almacenamiento)",
           report.lines.get("missing", []))
    _lines("Dañados (no coinciden con su suma SHA-256)", report.lines.get("corrupted", []))
    if clean:
        _lines(f"Huérfanos eliminados (más de {report.grace_days} día(s))",
               report.lines.get("orphans", []), problem=False)
    else:
        _lines(f"Huérfanos con más de {report.grace_days} día(s)", report.lines.get("orphans", []))
    _lines("Huérfanos recientes (dentro del plazo de gracia, no son error)",
           report.lines.get("young_orphans", []), problem=False)
    if report.orphans and not clean:
        click.echo("  Para eliminar los huérfanos antiguos: «archivo check --objetos --limpiar».")
    hint = report.regenerate_hint()
    if hint:
        click.echo(f"  {hint}")


def _print_audit(report: fixity.AuditReport) -> None:
    click.echo(f"Registro de auditoría: {report.events} evento(s)")
    if report.key_warning:
        click.secho(f"  Aviso: {report.key_warning}", fg="yellow")
    if report.ok:
        click.echo("  Cadena de sumas íntegra.")
        if report.sealed_since > 1:
            click.echo(f"  Sellos de la clave de auditoría verificados desde el evento "
                       f"{report.sealed_since}; los anteriores se registraron antes de la clave "
                       "y los protege el sello de ese evento.")
        else:
            click.echo("  Sellos de la clave de auditoría verificados en todos los eventos.")
        click.echo(f"  Anclas externas comparadas: {report.anchors}, todas coinciden.")
        _print_anchored(report.anchored)
        return
    lines = report.lines()
    click.secho(f"  {lines[0]}", fg="red")
    _lines("Problemas en la cadena (evento modificado, borrado o insertado)", lines[1:])
    click.echo("  No se registró un ancla nueva: la cadena actual no coincide.")


def _print_anchored(anchored: audit_anchor.AnchorWrite | None) -> None:
    if anchored is None:
        return
    if anchored.places:
        lock = (" (con bloqueo de objetos: no se puede borrar ni reescribir)"
                if anchored.locked else "")
        click.echo(f"  Ancla nueva: evento {anchored.anchor.event_id}, guardada en "
                   f"{' y '.join(anchored.places)}{lock}.")
    for failure in anchored.failures:
        click.secho(f"  Aviso: el ancla {failure}.", fg="yellow")


def _check_index(svc: Services, fix: bool, release: bool) -> int:
    report = check_consistency(svc)
    _print_report(svc, report)
    if not report.ok and fix:
        if release and release_stale_lock(svc):
            click.echo("Se quitó un bloqueo del índice que había quedado de otro proceso.")
        click.echo("Reparando...")
        with exclusive_writer(svc):
            report = repair(svc, report)
        _print_report(svc, report)
    return report.problems


@click.command("check")
@click.option("--objetos", "objects", is_flag=True,
              help="Volver a calcular la suma SHA-256 de los objetos y buscar faltantes y "
                   "huérfanos.")
@click.option("--auditoria", "audit_chain", is_flag=True,
              help="Verificar la cadena de sumas del registro de auditoría.")
@click.option("--indice", "index", is_flag=True,
              help="Comparar la base de datos con el índice de búsqueda.")
@click.option("--muestra", "sample", type=click.IntRange(min=1), default=None, metavar="N",
              help="Verificar solo los N objetos verificados hace más tiempo (rotativo).")
@click.option("--limpiar", "clean", is_flag=True,
              help="Eliminar los objetos huérfanos más antiguos que el plazo de gracia.")
@click.option("--gracia", "grace", type=click.IntRange(min=0), default=fixity.DEFAULT_GRACE_DAYS,
              show_default=True, metavar="DIAS", envvar="ARCHIVO_INTEGRIDAD_GRACIA_DIAS",
              help="Días que un huérfano se conserva antes de poder eliminarse.")
@click.option("--registrar-sumas", "fill_sums", is_flag=True,
              help="Calcular y guardar la suma SHA-256 de los derivados de página que no la "
                   "tienen (registrados antes de que se guardara).")
@click.option("--reparar", "fix", is_flag=True, help="Corregir el índice de búsqueda.")
@click.option("--liberar-bloqueo", "release", is_flag=True,
              help="Con --reparar: quitar el bloqueo dejado por un proceso interrumpido.")
@click.pass_context
@friendly_errors
def check(ctx: click.Context, objects: bool, audit_chain: bool, index: bool, sample: int | None,
          clean: bool, grace: int, fill_sums: bool, fix: bool, release: bool) -> None:
    """Verifica el archivo: objetos, auditoría e índice (sin opciones, todo).

    Sale con código 1 si encuentra algún problema. Detalles en docs/operacion.md.
    """
    if clean and sample is not None:
        raise click.UsageError("--limpiar necesita la verificación completa: quite --muestra.")
    everything = not (objects or audit_chain or index)
    if fill_sums and not (everything or objects):
        raise click.UsageError("--registrar-sumas es parte de la verificación de objetos: "
                               "agregue --objetos.")
    svc = get_services(ctx)
    require_initialized(svc)
    problems = index_problems = 0
    bars = _Bars()
    try:
        chain = None
        if everything or audit_chain:
            chain = fixity.check_audit(svc, progress=bars, anchor="check")
        if everything or objects:
            report = fixity.check_objects(svc, sample=sample, clean=clean, grace_days=grace,
                                          fill_sums=fill_sums, progress=bars)
            bars.close()
            fixity.record_result(svc, report, actor="consola", audit_report=chain)
            _print_objects(report, clean)
            problems += report.problems
        bars.close()
        if chain is not None:
            _print_audit(chain)
            problems += chain.problem_count
        if everything or index:
            index_problems = _check_index(svc, fix, release)
            problems += index_problems
    finally:
        bars.close()
    if problems == 0:
        click.secho("Resultado: sin problemas.", fg="green")
        return
    hint = " Ejecute «archivo check --indice --reparar» para el índice." if index_problems else ""
    click.secho(f"Resultado: {problems} problema(s).{hint}", fg="red")
    ctx.exit(1)
