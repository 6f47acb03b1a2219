"""``archivo separadores NIS... [--tipo T] --salida FILE.pdf``: print separator sheets.

One A4 page per NIS, in the order given. ``NIS:TIPO`` sets the type of one
sheet (``4992383:contrato``); ``--tipo`` sets it for the others. When the
archive is set up and its supply registry is loaded, numbers missing from it
are reported (the sheets are printed anyway: the registry may lag behind).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from archive.enums import DocumentType
from archive.errors import ArchivoError
from archive.nis import normalize_nis
from ingest import write_separators

from .common import friendly_errors, require_prepared


def _parse(items: tuple[str, ...],
           default_type: str | None) -> list[tuple[str, DocumentType | None]]:
    sheets: list[tuple[str, DocumentType | None]] = []
    for item in items:
        raw_nis, _, raw_type = item.partition(":")
        nis = normalize_nis(raw_nis)
        kind_text = raw_type.strip() or default_type
        kind = None
        if kind_text:
            try:
                kind = DocumentType.parse(kind_text)
            except ValueError as exc:
                raise ArchivoError(str(exc)) from exc
        sheets.append((nis, kind))  # type: ignore[arg-type]
    return sheets


def _missing_from_registry(numbers: list[str]) -> list[str] | None:
    """NIS absent from the registry; None when there is no archive or no registry to ask."""
    try:
        from archive.config import load_settings
        from archive.db import read_scope
        from archive.models import Supply
        from archive.services import Services

        svc = Services(load_settings())
        try:
            require_prepared(svc)  # a home never initialised has no registry (and gets no file)
            with read_scope(svc.sessions) as db:
                if db.scalar(select(Supply.nis).limit(1)) is None:
                    return None
                known = set(db.scalars(select(Supply.nis).where(Supply.nis.in_(numbers))))
        finally:
            svc.dispose()
    except Exception:  # noqa: BLE001 - printing sheets needs no archive
        return None
    return [n for n in numbers if n not in known]


@click.command("separadores")
@click.argument("numbers", nargs=-1, required=True, metavar="NIS...")
@click.option("--tipo", "doc_type", default=None, metavar="TIPO",
              help="Tipo de documento para todas las hojas (código o nombre, p. ej. contrato).")
@click.option("--salida", "output", required=True, metavar="ARCHIVO.pdf",
              type=click.Path(dir_okay=False, path_type=Path), help="Archivo PDF a escribir.")
@friendly_errors
def separators(numbers: tuple[str, ...], doc_type: str | None, output: Path) -> None:
    """Genera hojas separadoras (PDF, una por NIS) para escanear varias carpetas juntas.

    Coloque cada hoja delante de la carpeta de su suministro y escanee todo el
    lote en un solo archivo: al ingresarlo, el sistema crea un documento por
    hoja, vinculado a su NIS, y descarta las hojas separadoras. Use NIS:TIPO
    para dar un tipo a una sola hoja (p. ej. 4992383:contrato).
    """
    sheets = _parse(numbers, doc_type)
    if output.suffix.lower() != ".pdf":
        raise ArchivoError(f"La salida «{output}» debe ser un archivo .pdf.")
    output.parent.mkdir(parents=True, exist_ok=True)
    pages = write_separators(output, sheets)
    click.echo(f"Se generó 1 hoja separadora en {output}." if pages == 1 else
               f"Se generaron {pages} hojas separadoras en {output}.")
    for nis, kind in sheets:
        click.echo(f"  NIS {nis}  {kind.label if kind else 'tipo según el contenido'}")
    missing = _missing_from_registry(sorted({n for n, _ in sheets}))
    if missing:
        click.secho("Aviso: estos NIS no figuran en el padrón de suministros: "
                    + ", ".join(missing) + ". Verifique que estén bien escritos.",
                    fg="yellow", err=True)
