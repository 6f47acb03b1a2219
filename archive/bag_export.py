"""Export documents as a BagIt bag (``archivo export``), restorable by ``archive.bag_import``.

Layout of the bag (payload under ``data/``, sha256 manifests only)::

    bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    data/suministros.json                      supplies and aliases of the exported documents
    data/documentos/ARC-2026-000001/
        original.tif                           the original, byte for byte (its real extension)
        buscable.pdf                           the searchable PDF (when processed)
        pagina-0001.txt                        OCR / text-layer text of page 1, exactly as stored
        pagina-0001-web.jpg                    page image shown on screen
        pagina-0001-miniatura.jpg              thumbnail
        pagina-0001-palabras.json.gz           recognised words with their boxes (hit highlights)
        metadatos.json                         everything else (see ``document_metadata``)

The page derivatives travel in the bag so a restore needs no OCR: the page
text alone would make the documents searchable, but the viewer and the hit
boxes need the web image and the words blob, and the thumbnail is cheap.

Files are copied from the object store in chunks (never whole in memory) and
hashed on the way; an original whose bytes no longer match its recorded
SHA-256 stops the export (a backup must not carry a damaged original).
The bag is written into ``DESTINO.parcial`` and renamed when complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import mimetypes
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from . import __version__
from .db import read_scope
from .errors import ArchivoError, ObjectNotFound
from .models import AuditEvent, Document, DocumentSupply, RegionalUnit, Supply
from .nis import normalize_nis
from .registry.models import SupplyAlias
from .services import Services
from .storage import CHUNK_SIZE, ObjectStore

log = logging.getLogger(__name__)

DOC_FORMAT = "archivo-documento/1"
SUPPLY_FORMAT = "archivo-suministros/1"
DOCS_DIR = "documentos"
SUPPLIES_FILE = "suministros.json"
METADATA_FILE = "metadatos.json"
PDF_FILE = "buscable.pdf"
RESTORE_ACTION = "documento.restaurar"
ALGORITHM = "sha256"
ARCHIVE_NUMBER_RE = re.compile(r"ARC-\d{4}-\d{6}")
# Page derivative kinds (archive.keys) and their names in the bag.
PAGE_FILES: dict[str, str] = {"web": "web.jpg", "thumb": "miniatura.jpg",
                              "words": "palabras.json.gz"}
PAGE_FILE_KEYS: dict[str, str] = {"web": "web", "thumb": "miniatura", "words": "palabras"}
EXTENSIONS = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/jpeg": ".jpg",
              "image/png": ".png", "image/bmp": ".bmp", "image/gif": ".gif",
              "image/webp": ".webp"}

Progress = Callable[[str], None]


@dataclass
class Selection:
    """What to export: everything, or documents by archive number and/or NIS."""

    everything: bool = False
    archive_numbers: list[str] = field(default_factory=list)
    nis: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, values: Iterable[str], everything: bool = False) -> "Selection":
        sel = cls(everything=everything)
        for raw in values:
            value = raw.strip().upper()
            if ARCHIVE_NUMBER_RE.fullmatch(value):
                sel.archive_numbers.append(value)
            else:
                sel.nis.append(normalize_nis(raw))
        if everything and (sel.archive_numbers or sel.nis):
            raise ArchivoError("Use «--todo» o una lista de NIS/números ARC, no ambos.")
        if not everything and not (sel.archive_numbers or sel.nis):
            raise ArchivoError("Indique qué exportar: uno o más NIS, números ARC-AAAA-NNNNNN "
                               "o «--todo».")
        return sel

    def describe(self) -> str:
        if self.everything:
            return "todo"
        return " ".join([*self.archive_numbers, *(f"NIS {n}" for n in self.nis)])


@dataclass
class ExportReport:
    path: Path
    documents: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    supplies: int = 0
    warnings: list[str] = field(default_factory=list)


# -- small helpers -----------------------------------------------------------

def iso(moment: dt.datetime | dt.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:  # SQLite gives naive datetimes; they were stored as UTC
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    return moment.isoformat()


def original_extension(media_type: str, filename: str) -> str:
    """The extension of what the bytes are (sniffed media type), else of the uploaded name."""
    if media_type in EXTENSIONS:
        return EXTENSIONS[media_type]
    suffix = Path(filename).suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        return suffix
    return mimetypes.guess_extension(media_type or "") or ".bin"


def page_file(number: int, kind: str | None = None) -> str:
    """``pagina-0001.txt`` (text) or ``pagina-0001-web.jpg`` (derivative ``kind``)."""
    return f"pagina-{number:04d}.txt" if kind is None else f"pagina-{number:04d}-{PAGE_FILES[kind]}"


def copy_object(store: ObjectStore, key: str, target: Path) -> tuple[str, int]:
    """Stream one object into ``target``; returns (sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    with store.open(key) as src, target.open("wb") as out:
        while True:
            chunk = src.read(CHUNK_SIZE)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def event_dict(ev: AuditEvent) -> dict[str, Any]:
    return {"id": ev.id, "fecha": iso(ev.at), "actor": ev.actor, "accion": ev.action,
            "objeto_tipo": ev.object_type, "objeto_id": ev.object_id,
            "detalles": ev.details, "hash_anterior": ev.prev_hash, "hash": ev.hash}


def flatten_history(events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A ``documento.restaurar`` event carries the history it restored in ``detalles.eventos``:
    those events come out in its place, then the restore event itself with the list replaced
    by its length (its ``hash`` covers the full details, so it is marked ``resumido``)."""
    for ev in events:
        details = ev.get("detalles") or {}
        nested = details.get("eventos") if ev.get("accion") == RESTORE_ACTION else None
        if isinstance(nested, list):
            yield from flatten_history(nested)
            short = {k: v for k, v in details.items() if k != "eventos"}
            short["eventos_importados"] = len(nested)
            yield {**ev, "detalles": short, "resumido": True}
        else:
            yield ev


# -- selection ---------------------------------------------------------------

def select_documents(session: Session, selection: Selection) -> list[int]:
    """Document ids in id order; a number or NIS that selects nothing is an error."""
    if selection.everything:
        return list(session.scalars(select(Document.id).order_by(Document.id)))
    ids: set[int] = set()
    for number in selection.archive_numbers:
        found = session.scalar(select(Document.id).where(Document.archive_number == number))
        if found is None:
            raise ArchivoError(f"No existe el documento {number}.")
        ids.add(found)
    for nis in selection.nis:
        wanted = {nis}
        current = session.scalar(select(SupplyAlias.nis).where(SupplyAlias.old_nis == nis))
        if current:  # a former number: its documents now hang from the new one
            wanted.add(current)
        found_ids = set(session.scalars(select(DocumentSupply.document_id)
                                        .where(DocumentSupply.nis.in_(wanted))))
        if not found_ids:
            raise ArchivoError(f"Ningún documento está vinculado al NIS {nis}.")
        ids |= found_ids
    return sorted(ids)


# -- metadata ----------------------------------------------------------------

def document_history(session: Session, doc: Document) -> list[dict[str, Any]]:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "documento",
                                 or_(AuditEvent.object_id == doc.archive_number,
                                     AuditEvent.object_id == str(doc.id)))
        .order_by(AuditEvent.id)).all()
    return list(flatten_history(event_dict(e) for e in events))


def document_metadata(session: Session, doc: Document) -> dict[str, Any]:
    """Everything about one document except file bytes; file entries are filled by the export."""
    return {
        "formato": DOC_FORMAT,
        "numero": doc.archive_number,
        "documento_id": doc.id,
        "tipo": doc.doc_type.value,
        "tipo_confianza": doc.doc_type_confidence,
        "tipo_fijado": doc.doc_type_fixed,
        "titulo": doc.title,
        "estado": doc.status.value,
        "motivos_revision": [r for r in doc.review_reasons.split(",") if r],
        "error_codigo": doc.error_code,
        "error_mensaje": doc.error_message,
        "fecha_documento": iso(doc.document_date),
        "recibido": iso(doc.received_at),
        "recibido_por": doc.received_by,
        "procesado": iso(doc.processed_at),
        "expediente": doc.expediente,
        "numero_ot": doc.ot_number,
        "ocr_confianza": doc.ocr_confidence,
        "cantidad_paginas": doc.page_count,
        "identificadores": [{"tipo": i.kind, "valor": i.value}
                            for i in sorted(doc.identifiers, key=lambda i: (i.kind, i.value))],
        "nis": [{"nis": l.nis, "origen": l.source.value, "confianza": l.confidence,
                 "creado_por": l.created_by, "creado": iso(l.created_at)}
                for l in sorted(doc.supplies, key=lambda l: l.nis)],
        "original": {"nombre": doc.original_filename, "tipo_medio": doc.original.media_type,
                     "bytes": doc.original.size, "sha256": doc.original.sha256},
        "pdf": None,
        "paginas": [{"numero": p.number, "origen_texto": p.text_source,
                     "ocr_confianza": p.ocr_confidence, "rotacion": p.rotation,
                     "inclinacion": p.skew, "ancho": p.width, "alto": p.height, "dpi": p.dpi}
                    for p in doc.pages],
        "auditoria": document_history(session, doc),
    }


def supplies_metadata(session: Session, nis: set[str]) -> dict[str, Any]:
    """Registry rows and aliases touching the exported documents' NIS."""
    aliases = session.scalars(select(SupplyAlias).where(
        or_(SupplyAlias.nis.in_(nis), SupplyAlias.old_nis.in_(nis)))
        .order_by(SupplyAlias.old_nis)).all() if nis else []
    wanted = set(nis) | {a.nis for a in aliases}
    supplies = session.scalars(select(Supply).where(Supply.nis.in_(wanted))
                               .options(selectinload(Supply.regional_unit))
                               .order_by(Supply.nis)).all() if wanted else []
    return {
        "formato": SUPPLY_FORMAT,
        "suministros": [{"nis": s.nis, "titular": s.holder_name,
                         "documento_titular": s.holder_document, "direccion": s.address,
                         "ciudad": s.city, "tarifa": s.tariff, "estado": s.status.value,
                         "actualizado": iso(s.updated_at),
                         "unidad_regional": _unit(s.regional_unit)} for s in supplies],
        "alias": [{"nis_anterior": a.old_nis, "nis": a.nis, "tipo": a.kind,
                   "creado": iso(a.created_at), "creado_por": a.created_by} for a in aliases],
    }


def _unit(unit: RegionalUnit | None) -> dict[str, str] | None:
    if unit is None:
        return None
    return {"codigo": unit.code, "nombre": unit.name, "ciudad": unit.city,
            "direccion": unit.address, "contacto": unit.contact}


def write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


# -- export ------------------------------------------------------------------

def _load(session: Session, doc_id: int) -> Document:
    doc = session.scalar(select(Document).where(Document.id == doc_id).options(
        selectinload(Document.pages), selectinload(Document.supplies),
        selectinload(Document.identifiers), selectinload(Document.original),
        selectinload(Document.pdf)))
    assert doc is not None
    return doc


def _export_document(services: Services, session: Session, doc: Document, root: Path,
                     report: ExportReport) -> set[str]:
    store = services.store
    folder = root / DOCS_DIR / doc.archive_number
    folder.mkdir(parents=True)
    meta = document_metadata(session, doc)

    name = "original" + original_extension(doc.original.media_type, doc.original_filename)
    try:
        sha, size = copy_object(store, doc.original.storage_key, folder / name)
    except ObjectNotFound:
        raise ArchivoError(f"Falta el original de {doc.archive_number} en el almacenamiento "
                           f"({doc.original.storage_key}); ejecute «archivo check». "
                           "No se exportó nada.") from None
    if sha != doc.original.sha256 or size != doc.original.size:
        raise ArchivoError(f"El original de {doc.archive_number} está dañado: su suma SHA-256 "
                           f"ya no coincide con la registrada ({doc.original.sha256[:12]}…). "
                           "No se exportó nada; ejecute «archivo check».")
    meta["original"]["archivo"] = name
    _count(report, size)

    if doc.pdf is not None:
        meta["pdf"] = _derivative(store, doc.pdf.storage_key, folder / PDF_FILE, report,
                                  doc.archive_number)
    for page, pmeta in zip(doc.pages, meta["paginas"]):
        text_name = page_file(page.number)
        with (folder / text_name).open("w", encoding="utf-8", newline="") as fh:
            fh.write(page.text or "")
        _count(report, (folder / text_name).stat().st_size)
        pmeta["texto"] = text_name
        derivatives: dict[str, Any] = {}
        for kind, key in (("web", page.image_key), ("thumb", page.thumb_key),
                          ("words", page.words_key)):
            derivatives[PAGE_FILE_KEYS[kind]] = (
                _derivative(store, key, folder / page_file(page.number, kind), report,
                            doc.archive_number) if key else None)
        pmeta["derivados"] = derivatives
    write_json(folder / METADATA_FILE, meta)
    _count(report, (folder / METADATA_FILE).stat().st_size)
    report.documents.append(doc.archive_number)
    return {link.nis for link in doc.supplies}


def _derivative(store: ObjectStore, key: str, target: Path, report: ExportReport,
                number: str) -> dict[str, Any] | None:
    try:
        sha, size = copy_object(store, key, target)
    except ObjectNotFound:
        target.unlink(missing_ok=True)
        report.warnings.append(f"{number}: falta {key} en el almacenamiento; no se exportó.")
        return None
    _count(report, size)
    return {"archivo": target.name, "bytes": size, "sha256": sha}


def _count(report: ExportReport, size: int) -> None:
    report.files += 1
    report.bytes += size


def export_bag(services: Services, selection: Selection, destination: str | os.PathLike[str], *,
               progress: Progress | None = None) -> ExportReport:
    """Write the selected documents as a BagIt bag at ``destination`` (must not exist or be empty)."""
    import bagit

    dest = Path(destination).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ArchivoError(f"«{dest}» ya existe y no es una carpeta vacía; elija otro destino.")
    work = dest.with_name(dest.name + ".parcial")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    report = ExportReport(path=dest)
    exported_at = dt.datetime.now(dt.timezone.utc)
    try:
        (work / DOCS_DIR).mkdir()
        with read_scope(services.sessions) as session:
            ids = select_documents(session, selection)
            nis: set[str] = set()
            for doc_id in ids:
                doc = _load(session, doc_id)
                nis |= _export_document(services, session, doc, work, report)
                if progress:
                    progress(doc.archive_number)
                session.expunge_all()  # keep memory flat on a big export
            supplies = supplies_metadata(session, nis)
        write_json(work / SUPPLIES_FILE, supplies)
        report.supplies = len(supplies["suministros"])
        info = {
            "Source-Organization": "archivo",
            "Bag-Software-Agent": f"archivo {__version__} (bagit {bagit.VERSION})",
            "Archivo-Version": __version__,
            "Archivo-Exportado": iso(exported_at) or "",
            "Archivo-Seleccion": selection.describe(),
            "Archivo-Documentos": str(len(report.documents)),
            "Archivo-Suministros": str(report.supplies),
            "External-Description": "Documentos del archivo con sus originales, PDF buscable, "
                                    "texto por página, derivados y metadatos.",
        }
        bagit.make_bag(str(work), bag_info=info, checksums=[ALGORITHM])
        if dest.exists():
            dest.rmdir()  # empty, checked above
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report
