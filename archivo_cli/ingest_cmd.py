"""``archivo ingest``: archive files and folders from the command line."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
from tqdm import tqdm

from archive.enums import DocumentStatus, DocumentType
from archive.errors import ArchivoError
from ingest import (RejectedInput, accept_stream, is_final, is_plainly_not_a_scan, read_head,
                    summaries)

from .common import friendly_errors, get_services
from .runtime import require_initialized, start_background_worker


@dataclass
class Walk:
    """What to archive, and what a folder held that is plainly not a scan."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def expand_paths(paths: tuple[str, ...]) -> Walk:
    """Files as given, folders walked recursively in name order.

    Inside a folder, hidden files (``.DS_Store``), sidecars and desktop leftovers are
    set aside and counted (see ``is_plainly_not_a_scan``); a file named on the
    command line is always tried,
    so it gets its clear error if it is not a scan.
    """
    walk = Walk()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():  # hidden names are skipped below the folder given, not above it
            for f in sorted(f for f in p.rglob("*") if f.is_file()):
                hidden = any(part.startswith(".") for part in f.relative_to(p).parts)
                (walk.skipped if hidden or _plainly_not_a_scan(f) else walk.files).append(f)
        elif p.is_file():
            walk.files.append(p)
        else:
            raise ArchivoError(f"No existe el archivo o carpeta «{raw}».")
    return walk


def _plainly_not_a_scan(path: Path) -> bool:
    try:
        head = read_head(path)
    except OSError:  # unreadable: tried anyway, so the table says why
        return False
    return is_plainly_not_a_scan(path.name, head)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--tipo", "doc_type", default=None,
              type=click.Choice([t.value for t in DocumentType]),
              help="Tipo de documento (si se omite, se deduce del texto).")
@click.option("--nis", "nis", multiple=True, help="NIS del suministro (puede repetirse).")
@click.option("--esperar", is_flag=True, help="Esperar a que termine el OCR de cada documento.")
@click.option("--json", "as_json", is_flag=True, help="Una línea JSON por archivo.")
@click.option("--usuario", "actor", default="cli", show_default=True,
              help="Usuario que figura como receptor en la auditoría.")
@click.pass_context
@friendly_errors
def ingest(ctx: click.Context, paths: tuple[str, ...], doc_type: str | None, nis: tuple[str, ...],
           esperar: bool, as_json: bool, actor: str) -> None:
    """Ingresa archivos escaneados (TIFF, PDF, JPEG, PNG) o carpetas enteras."""
    svc = get_services(ctx)
    require_initialized(svc)
    walk = expand_paths(paths)
    files = walk.files
    rows: list[dict[str, object]] = []
    dtype = DocumentType(doc_type) if doc_type else None
    for path in tqdm(files, desc="Recibiendo", unit="archivo", disable=as_json or len(files) < 2):
        row: dict[str, object] = {"archivo": str(path)}
        try:
            with path.open("rb") as fh:
                acc = accept_stream(svc, fh, path.name, actor=actor, doc_type=dtype, nis=nis,
                                    enqueue=True)
            row.update(documento_id=acc.document_id, numero=acc.archive_number,
                       estado=acc.status, duplicado=acc.duplicate)
        except RejectedInput as exc:
            row.update(documento_id=None, numero=None, estado="rechazado", error=str(exc))
        except OSError as exc:  # unreadable file: report it and go on with the next
            row.update(documento_id=None, numero=None, estado="rechazado",
                       error=f"No se pudo leer el archivo: {exc.strerror or exc}.")
        except ArchivoError as exc:  # storage or database down: say so, keep what was done
            row.update(documento_id=None, numero=None, estado="rechazado", error=str(exc))
        rows.append(row)
    ids = [int(r["documento_id"]) for r in rows if r.get("documento_id")]
    parts: dict[int, list[int]] = {}
    if esperar and ids:
        parts = _wait(svc, ids, quiet=as_json)
    info = summaries(svc, ids + [c for kids in parts.values() for c in kids])
    for row in rows:
        s = info.get(row["documento_id"]) if row.get("documento_id") else None  # type: ignore[arg-type]
        if s:
            row.update(estado=s.status, tipo=s.doc_type, nis=s.nis, paginas=s.pages,
                       motivos_revision=s.review_reasons, error=s.error)
        kids = parts.get(row.get("documento_id"))  # type: ignore[arg-type]
        if kids:  # a stack with separator sheets: what each part became
            row["partes"] = [{"numero": info[k].archive_number, "estado": info[k].status,
                              "nis": info[k].nis, "paginas": info[k].pages}
                             for k in kids if k in info]
    if as_json:
        for row in rows + [_skipped_row(p) for p in walk.skipped]:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        _table(rows, len(walk.skipped))
    if any(r["estado"] in {"rechazado", "error"} for r in rows):
        ctx.exit(1)


def _wait(svc, ids: list[int], *, quiet: bool) -> dict[int, list[int]]:  # type: ignore[no-untyped-def]
    """Run a worker in this process until every document, and every part a stack was split
    into, is finished; returns the parts of each split upload."""
    from archive.batches import part_documents
    from archive.db import read_scope

    consumer, stop = start_background_worker(svc)
    try:
        with tqdm(total=len(ids), desc="Procesando", unit="doc", disable=quiet) as bar:
            done: set[int] = set()
            parts: dict[int, list[int]] = {}
            while True:
                with read_scope(svc.sessions) as session:
                    parts = part_documents(session, ids)
                wanted = ids + [c for kids in parts.values() for c in kids]
                bar.total = len(wanted)
                now_done = {i for i, s in summaries(svc, wanted).items() if is_final(s.status)}
                bar.update(len(now_done - done))
                done |= now_done
                if len(done) >= len(wanted):
                    return parts
                time.sleep(0.5)
    finally:
        stop.set()
        consumer.stop(graceful=True)


def _skipped_row(path: Path) -> dict[str, object]:
    return {"archivo": str(path), "documento_id": None, "numero": None, "estado": "omitido",
            "motivo": "no es un escaneo"}


_OUTCOMES = {"rechazado": "Rechazado", "omitido": "Omitido"}  # rows that never became documents


def _status_words(code: object) -> str:
    """«Listo», «Revisar»: the table is read by people, the JSON keeps the codes."""
    try:
        return DocumentStatus(str(code)).label
    except ValueError:
        return _OUTCOMES.get(str(code), str(code))


def _type_words(code: object) -> str:
    try:
        return DocumentType(str(code)).label if code else "-"
    except ValueError:
        return str(code)


def _table(rows: list[dict[str, object]], skipped: int = 0) -> None:
    click.echo(f"{'ARCHIVO':30} {'NÚMERO':16} {'ESTADO':10} {'TIPO':30} {'PÁG':>4}  NIS")
    for r in rows:
        name = Path(str(r["archivo"])).name[:30]
        nis = ",".join(r.get("nis") or [])  # type: ignore[arg-type]
        click.echo(f"{name:30} {str(r.get('numero') or '-'):16} {_status_words(r['estado']):10} "
                   f"{_type_words(r.get('tipo'))[:30]:30} {str(r.get('paginas') or '-'):>4}  {nis}")
        for part in r.get("partes") or []:  # type: ignore[attr-defined]
            click.echo(f"{'':30} parte {part['numero']}: {_status_words(part['estado'])}, "
                       f"{part['paginas']} pág., NIS {','.join(part['nis']) or '-'}")
        if r.get("duplicado"):
            click.echo(f"{'':30} ya estaba archivado: no se duplicó.")
        if r.get("error"):
            click.echo(f"{'':30} {r['error']}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[_status_words(r["estado"])] = counts.get(_status_words(r["estado"]), 0) + 1
    parts = [", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))] if counts else []
    if skipped:
        parts.append(f"omitidos: {skipped}, no son escaneos")
    click.echo("Resumen: " + ("; ".join(parts) or "no había archivos para ingresar"))
