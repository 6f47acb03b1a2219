"""Restore a bag written by ``archive.bag_export`` (``archivo import-bag``).

Rules (see docs/operacion.md, «Exportar y restaurar (BagIt)»):

* The whole bag is validated first (structure, completeness, every sha256),
  then every document's metadata, and every file the metadata records a sum
  for (originals, PDFs, page derivatives) is compared with that sum: a bag
  whose manifests were recomputed after a file changed passes BagIt but not
  this. A damaged bag is refused before anything is written, naming the bad
  files.
* Same original bytes = same document. The original is content-addressed, so
  a document whose original is already archived is reused, not duplicated: it
  only gains the NIS links and identifiers it lacks, and objects missing from
  the store are put back from the bag. Importing the same bag twice changes
  nothing the second time (no rows, no objects, no audit events).
* A new document keeps its archive number from the bag when no document has
  it and the audit trail never gave it to other bytes; otherwise it gets the
  next number of the current year and the old one is kept in the audit event.
  The year's counter is moved past every number restored, so later uploads
  never collide with them.
* The document's past audit events are not written back into the hash chain
  (their predecessors belong to another archive). They are kept, verbatim and
  with their original hashes, in the details of one ``documento.restaurar``
  event per document, appended to this archive's chain; ``eventos_verificados``
  says how many of them still match their own hash.
* Bytes are stored before rows (as in ingest), and each document is one
  transaction. If writing a document fails (storage or database down), the
  objects written for it that no row names are deleted again, and
  :class:`ImportIncomplete` lists what was restored and what was not; the
  documents already restored are complete, and running the import again
  restores the rest without duplicating anything.
* Restored documents are marked ``index_due``; the caller wakes the indexer
  (``archive`` does not import ``search``). Documents exported while still
  ``recibido``/``procesando`` come back as ``recibido`` and are reprocessed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from . import audit, keys
from .bag_export import (ALGORITHM, ARCHIVE_NUMBER_RE, DOC_FORMAT, DOCS_DIR, METADATA_FILE,
                         PAGE_FILE_KEYS, RESTORE_ACTION, SUPPLIES_FILE, SUPPLY_FORMAT)
from .db import session_scope
from .enums import DocumentStatus, DocumentType, LinkSource, SupplyStatus
from .errors import ArchivoError
from .fixity import _named_keys
from .models import (AuditEvent, Blob, Document, DocumentIdentifier, DocumentSupply, Page,
                     RegionalUnit, Sequence, Supply, derivative_sums)
from .registry.models import SupplyAlias
from .sequences import archive_number
from .services import Services
from .signals import mark_document_changed
from .storage import ObjectStore

log = logging.getLogger(__name__)

MEDIA = {"web": "image/jpeg", "thumb": "image/jpeg", "words": "application/gzip"}
DERIVATIVE_WORDS = {"web": "la imagen", "thumb": "la miniatura", "words": "las palabras"}
MAX_NUMBERS_SHOWN = 20
MAX_PROBLEMS_SHOWN = 5

Progress = Callable[[str], None]


class BagRefused(ArchivoError):
    """The bag is not a valid, complete, intact archivo bag; nothing was imported."""


class ImportIncomplete(ArchivoError):
    """Writing stopped part-way (not the bag's fault); ``report`` holds what was restored."""

    def __init__(self, message: str, report: "ImportReport") -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # already archived (same original bytes)
    updated: list[str] = field(default_factory=list)  # reused and completed from the bag
    renumbered: dict[str, str] = field(default_factory=dict)  # number in bag -> new number
    objects_repaired: int = 0
    supplies_created: int = 0
    aliases_created: int = 0
    units_created: int = 0
    to_index: list[int] = field(default_factory=list)
    to_process: list[int] = field(default_factory=list)

    def restored(self) -> list[str]:
        """Every document of the bag that is now in this archive (new, completed or already there)."""
        return [*self.created, *self.updated, *self.reused]


# -- validation --------------------------------------------------------------

def _describe(detail: Any) -> str:
    import bagit

    path = getattr(detail, "path", "")
    if isinstance(detail, bagit.ChecksumMismatch):
        return (f"«{path}» no coincide con su suma {detail.algorithm} (esperada "
                f"{str(detail.expected)[:12]}…, calculada {str(detail.found)[:12]}…)")
    if isinstance(detail, bagit.FileMissing):
        return f"falta «{path}», que figura en el manifiesto"
    if isinstance(detail, bagit.UnexpectedFile):
        return f"«{path}» no figura en el manifiesto"
    return str(detail)


def _details(bag: Any) -> list[Any]:
    """File-level problems when bagit stopped at the Payload-Oxum count (which names no file)."""
    import bagit

    for check in (bag._validate_completeness, lambda: bag._validate_entries(1)):
        try:
            check()
        except bagit.BagValidationError as exc:
            if exc.details:
                return list(exc.details)
    return []


def validate_bag(path: str | os.PathLike[str]) -> Any:
    """Open and fully validate the bag; raise :class:`BagRefused` with a Spanish message."""
    import bagit

    root = Path(path)
    if not root.is_dir():
        raise BagRefused(f"No existe la carpeta «{root}».")
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        raise BagRefused(f"«{root}» no es una bolsa BagIt válida ({exc}). No se importó nada.")
    if ALGORITHM not in bag.algorithms:
        raise BagRefused(f"La bolsa «{root}» no tiene manifiesto {ALGORITHM}; no se puede "
                         "verificar. No se importó nada.")
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = list(exc.details) or _details(bag)
        problems = [_describe(d) for d in details] or [str(exc.message)]
        more = len(problems) - MAX_PROBLEMS_SHOWN
        text = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        if more > 0:
            text += f"; y {more} problema(s) más"
        raise BagRefused(f"La bolsa «{root}» está dañada: {text}. No se importó nada; "
                         "use una copia sana de la bolsa.") from None
    except bagit.BagError as exc:
        raise BagRefused(f"La bolsa «{root}» está dañada ({exc}). No se importó nada.") from None
    return bag


# -- reading the bag ---------------------------------------------------------

def _read_json(path: Path, what: str) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise BagRefused(f"No se pudo leer {what} «{path}»: {exc}.") from None


def _member(folder: Path, name: Any) -> Path:
    """A file named in metadata: a plain name inside the document's folder, nothing else."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name \
            or name.startswith(".") or not (folder / name).is_file():
        raise BagRefused(f"«{folder.name}/{METADATA_FILE}» nombra un archivo inválido o "
                         f"ausente: {name!r}.")
    return folder / name


def _load_meta(folder: Path) -> dict[str, Any]:
    meta = _read_json(folder / METADATA_FILE, "los metadatos")
    if not isinstance(meta, dict) or meta.get("formato") != DOC_FORMAT:
        raise BagRefused(f"«{folder.name}/{METADATA_FILE}» no tiene el formato {DOC_FORMAT}.")
    return meta


def _documents(data: Path) -> list[tuple[Path, str]]:
    """(folder, archive number in the bag) in the source archive's id order.

    Only the order is kept from this first pass: each document's metadata is
    read again when it is restored, so a bag of millions of documents does not
    sit in memory.
    """
    found = []
    docs = data / DOCS_DIR
    for folder in sorted(docs.iterdir()) if docs.is_dir() else []:
        if folder.is_dir():
            meta = _load_meta(folder)
            found.append((meta.get("documento_id") or 0, str(meta.get("numero") or ""), folder))
    found.sort(key=lambda item: (item[0], item[1]))
    return [(folder, number) for _, number, folder in found]


def _when(text: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _day(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


# -- checking every document before anything is written ---------------------

def payload_sums(bag: Any) -> dict[str, str]:
    """Manifest path -> sha256 of every payload file (bagit has proved the files match them)."""
    return {path: entry[ALGORITHM] for path, entry in bag.entries.items()
            if path.startswith("data/") and ALGORITHM in entry}


def _check_file(folder: Path, entry: Any, sums: dict[str, str], what: str) -> None:
    """The file's bytes are the ones its metadata records (size and SHA-256).

    Bagit checked each file against the manifest; comparing the manifest's sum
    with the metadata's catches a file changed and its manifest recomputed.
    """
    path = _member(folder, entry["archivo"])
    recorded = keys.check_sha256(entry["sha256"])
    rel = f"data/{DOCS_DIR}/{folder.name}/{path.name}"
    if sums.get(rel) != recorded or path.stat().st_size != int(entry["bytes"]):
        raise BagRefused(f"«{rel}» ({what} de {folder.name}) no coincide con la suma SHA-256 "
                         f"que registran sus metadatos ({recorded[:12]}…): el archivo fue "
                         "cambiado después de exportar la bolsa. No se importó nada; use una "
                         "copia sana de la bolsa.")


def _check_fields(folder: Path, meta: dict[str, Any]) -> None:
    """Every value the restore converts, converted once here so a bad one stops nothing half-way."""
    if not isinstance(meta.get("numero", ""), str):
        raise TypeError("numero")
    DocumentType(meta["tipo"])
    DocumentStatus(meta["estado"])
    _day(meta.get("fecha_documento"))
    _when(meta.get("recibido"))
    _when(meta.get("procesado"))
    int(meta.get("cantidad_paginas") or 0)
    ",".join(meta.get("motivos_revision") or [])
    for p in meta.get("paginas", []):
        int(p["numero"]), int(p.get("rotacion") or 0), float(p.get("inclinacion") or 0.0)
        int(p.get("ancho") or 0), int(p.get("alto") or 0), int(p.get("dpi") or 0)
        _member(folder, p["texto"])
    for row in meta.get("nis", []):
        _link(0, row)
    for ident in meta.get("identificadores", []):
        str(ident["tipo"]), str(ident["valor"])
    events = meta.get("auditoria") or []
    if not isinstance(events, list):
        raise TypeError("auditoria")


def check_document(folder: Path, meta: dict[str, Any], sums: dict[str, str]) -> None:
    """Raise :class:`BagRefused` unless this document can be restored exactly as recorded."""
    try:
        _check_fields(folder, meta)
        _check_file(folder, meta["original"], sums, "el original")
        if meta.get("pdf"):
            _check_file(folder, meta["pdf"], sums, "el PDF buscable")
        for number, kind, _path, entry in _page_derivatives(meta, folder):
            _check_file(folder, entry, sums, f"{DERIVATIVE_WORDS[kind]} de la página {number}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BagRefused(f"Los metadatos de {folder.name} están incompletos o son inválidos "
                         f"(campo o valor: {exc}). No se importó nada; corrija la bolsa y "
                         "vuelva a importarla.") from None


# -- supplies ----------------------------------------------------------------

def _restore_supplies(session: Session, data: dict[str, Any], actor: str,
                      report: ImportReport) -> None:
    """Add registry rows, regional units and aliases this archive lacks; keep the ones it has."""
    if data.get("formato") != SUPPLY_FORMAT:
        raise BagRefused(f"«{SUPPLIES_FILE}» no tiene el formato {SUPPLY_FORMAT}.")
    units = {u.code: u for u in session.scalars(select(RegionalUnit))}
    added_nis, added_alias, added_units = [], [], []
    for row in data.get("suministros", []):
        if session.get(Supply, row["nis"]) is not None:
            continue
        unit_id = None
        u = row.get("unidad_regional")
        if u:
            unit = units.get(u["codigo"])
            if unit is None:
                unit = RegionalUnit(code=u["codigo"], name=u.get("nombre", ""),
                                    city=u.get("ciudad", ""), address=u.get("direccion", ""),
                                    contact=u.get("contacto", ""))
                session.add(unit)
                session.flush()
                units[unit.code] = unit
                added_units.append(unit.code)
            unit_id = unit.id
        supply = Supply(nis=row["nis"], holder_name=row.get("titular", ""),
                        holder_document=row.get("documento_titular", ""),
                        address=row.get("direccion", ""), city=row.get("ciudad", ""),
                        tariff=row.get("tarifa", ""), regional_unit_id=unit_id,
                        status=SupplyStatus(row.get("estado") or "activo"))
        if row.get("actualizado"):
            supply.updated_at = _when(row["actualizado"])  # type: ignore[assignment]
        session.add(supply)
        added_nis.append(row["nis"])
    for row in data.get("alias", []):
        if session.get(SupplyAlias, row["nis_anterior"]) is not None:
            continue
        session.add(SupplyAlias(old_nis=row["nis_anterior"], nis=row["nis"], kind=row["tipo"],
                                created_at=_when(row.get("creado")) or dt.datetime.now(dt.timezone.utc),
                                created_by=row.get("creado_por", "")))
        added_alias.append(row["nis_anterior"])
    session.flush()
    if added_nis or added_alias or added_units:
        audit.record(session, actor, "suministro.restaurar", "suministro",
                     ",".join(added_nis[:20]) or ",".join(added_alias[:20]) or "-",
                     {"nis": added_nis, "alias": added_alias, "unidades_regionales": added_units})
    report.supplies_created += len(added_nis)
    report.aliases_created += len(added_alias)
    report.units_created += len(added_units)


# -- documents ---------------------------------------------------------------

class Written:
    """Keys this import created in the store (they did not exist before it wrote them)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.keys: list[str] = []

    def put(self, key: str, path: Path, entry: dict[str, Any], media_type: str) -> None:
        new = not self.store.exists(key)
        with path.open("rb") as fh:  # streamed, hashed and checked by the store before commit
            self.store.put(key, fh, media_type=media_type, sha256=entry["sha256"],
                           size=entry["bytes"])
        if new:
            self.keys.append(key)

    def undo(self, services: Services) -> None:
        """Delete what was written and no row names (the document's rows were not committed)."""
        if not self.keys:
            return
        with session_scope(services.sessions) as session:
            named = _named_keys(session, self.keys)
        for key in self.keys:
            if key not in named:
                try:
                    self.store.delete(key)
                except ArchivoError:  # the store is what failed: the fixity check finds it
                    log.warning("no se pudo borrar %s tras una restauración fallida", key)
        self.keys.clear()


def _page_derivatives(meta: dict[str, Any], folder: Path) -> list[tuple[int, str, Path, dict]]:
    out = []
    for page in meta.get("paginas", []):
        for kind, name in PAGE_FILE_KEYS.items():
            entry = (page.get("derivados") or {}).get(name)
            if entry:
                out.append((int(page["numero"]), kind, _member(folder, entry["archivo"]), entry))
    return out


def verified_events(events: list[dict[str, Any]]) -> int:
    """How many exported events still match their own hash (summaries cannot)."""
    ok = 0
    for ev in events:
        if ev.get("resumido"):
            continue
        try:
            expected = audit.event_hash(ev["hash_anterior"], _when(ev["fecha"]),  # type: ignore[arg-type]
                                        ev["actor"], ev["accion"], ev["objeto_tipo"],
                                        ev["objeto_id"], ev["detalles"])
        except (KeyError, TypeError, ValueError):
            continue
        ok += expected == ev.get("hash")
    return ok


def _number_taken(session: Session, number: str, sha256: str) -> bool:
    if session.scalar(select(Document.id).where(Document.archive_number == number)) is not None:
        return True
    for details in session.scalars(select(AuditEvent.details).where(
            AuditEvent.object_type == "documento", AuditEvent.object_id == number,
            AuditEvent.action.in_(["documento.recibir", RESTORE_ACTION]))):
        if isinstance(details, dict) and details.get("sha256") not in (None, sha256):
            return True  # handed out once to other bytes (since deleted): never again
    return False


def _bump_sequence(session: Session, number: str) -> None:
    """Keep the year's counter at or past a restored number."""
    _, year, seq = number.split("-")
    name, value = f"ARC-{year}", int(seq)
    row = session.get(Sequence, name)
    if row is None:
        session.add(Sequence(name=name, value=value))
    elif row.value < value:
        row.value = value
    session.flush()


def _choose_number(session: Session, wanted: str, sha256: str) -> str:
    if isinstance(wanted, str) and ARCHIVE_NUMBER_RE.fullmatch(wanted) \
            and not _number_taken(session, wanted, sha256):
        _bump_sequence(session, wanted)  # already done by import_bag; kept for direct callers
        return wanted
    return archive_number(session)


def _find(session: Session, key: str) -> Document | None:
    return session.scalar(select(Document).join(Blob, Document.original_blob_id == Blob.id)
                          .where(Blob.storage_key == key)
                          .options(selectinload(Document.pages), selectinload(Document.supplies),
                                   selectinload(Document.identifiers), selectinload(Document.pdf)))


def _link(doc_id: int, row: dict[str, Any]) -> DocumentSupply:
    link = DocumentSupply(document_id=doc_id, nis=row["nis"], source=LinkSource(row["origen"]),
                          confidence=float(row.get("confianza", 1.0)),
                          created_by=row.get("creado_por", ""))
    if row.get("creado"):
        link.created_at = _when(row["creado"])  # type: ignore[assignment]
    return link


def _restore_document(services: Services, folder: Path, meta: dict[str, Any], bag_label: str,
                      info: dict[str, Any], actor: str, report: ImportReport,
                      written: Written) -> None:
    store = services.store
    orig = meta["original"]
    sha = keys.check_sha256(orig["sha256"])
    okey = keys.original_key(sha)
    original_path = _member(folder, orig["archivo"])
    # Intact means present with the right bytes: a copy damaged in place (same size) is
    # rewritten from the bag (the bag was validated first) and counts as repaired.
    present = store.exists(okey)
    intact = present and store.sha256_of(okey) == sha
    with original_path.open("rb") as fh:
        stored = store.put_original(fh, media_type=orig.get("tipo_medio") or "application/octet-stream",
                                    verify_existing=True)
    if stored.key != okey or not present:  # undo deletes it only if no row names it
        written.keys.append(stored.key)
    if stored.sha256 != sha:  # changed on disk after the checks: undone by the caller
        raise BagRefused(f"El original de {folder.name} cambió durante la importación; no "
                         "coincide con el SHA-256 de sus metadatos.")
    repaired = 0 if intact else 1
    with session_scope(services.sessions) as session:
        existing = _find(session, okey)
        if existing is not None:
            _complete_existing(session, existing, folder, meta, actor, report, repaired, written)
            return
    # A new document: its bytes first, then its rows in one transaction.
    pdf = meta.get("pdf")
    pdf_path = _member(folder, pdf["archivo"]) if pdf else None
    derivatives = _page_derivatives(meta, folder)
    if pdf and pdf_path:
        written.put(keys.pdf_key(sha), pdf_path, pdf, "application/pdf")
    for number, kind, path, entry in derivatives:
        written.put(keys.page_key(sha, number, kind), path, entry, MEDIA[kind])  # type: ignore[arg-type]
    # verified against these by the store before commit, so they are the stored bytes' sums
    sums = {(n, k): (entry["sha256"], int(entry["bytes"])) for n, k, _, entry in derivatives}
    with session_scope(services.sessions) as session:
        if _find(session, okey) is not None:  # restored concurrently: the other run won
            report.reused.append(meta["numero"])
            return
        blob = session.scalar(select(Blob).where(Blob.storage_key == okey))
        if blob is None:
            blob = Blob(sha256=sha, size=int(orig["bytes"]),
                        media_type=orig.get("tipo_medio") or "application/octet-stream",
                        storage_key=okey)
            session.add(blob)
            session.flush()
        pdf_blob = None
        if pdf:
            pkey = keys.pdf_key(sha)
            pdf_blob = session.scalar(select(Blob).where(Blob.storage_key == pkey))
            if pdf_blob is None:
                pdf_blob = Blob(sha256=pdf["sha256"], size=int(pdf["bytes"]),
                                media_type="application/pdf", storage_key=pkey)
                session.add(pdf_blob)
                session.flush()
            else:
                pdf_blob.sha256, pdf_blob.size = pdf["sha256"], int(pdf["bytes"])
        number = _choose_number(session, meta.get("numero", ""), sha)
        status = DocumentStatus(meta["estado"])
        if status is DocumentStatus.PROCESANDO:  # its lease belonged to the other archive
            status = DocumentStatus.RECIBIDO
        doc = Document(
            archive_number=number, doc_type=DocumentType(meta["tipo"]),
            doc_type_confidence=meta.get("tipo_confianza"),
            doc_type_fixed=bool(meta.get("tipo_fijado")), title=meta.get("titulo") or "",
            status=status, expediente=meta.get("expediente"), ot_number=meta.get("numero_ot"),
            document_date=_day(meta.get("fecha_documento")),
            received_at=_when(meta.get("recibido")) or dt.datetime.now(dt.timezone.utc),
            received_by=meta.get("recibido_por") or "",
            original_blob_id=blob.id, original_filename=orig.get("nombre") or "",
            pdf_blob_id=pdf_blob.id if pdf_blob else None,
            page_count=int(meta.get("cantidad_paginas") or len(meta.get("paginas", []))),
            ocr_confidence=meta.get("ocr_confianza"),
            review_reasons=",".join(meta.get("motivos_revision") or []),
            error_code=meta.get("error_codigo"), error_message=meta.get("error_mensaje"),
            processed_at=_when(meta.get("procesado")))
        mark_document_changed(doc)
        session.add(doc)
        session.flush()
        for p in meta.get("paginas", []):
            n = int(p["numero"])
            with _member(folder, p["texto"]).open(encoding="utf-8", newline="") as fh:
                text = fh.read()
            session.add(Page(
                document_id=doc.id, number=n, text=text, text_source=p.get("origen_texto", "ocr"),
                ocr_confidence=p.get("ocr_confianza"), rotation=int(p.get("rotacion") or 0),
                skew=float(p.get("inclinacion") or 0.0), width=int(p.get("ancho") or 0),
                height=int(p.get("alto") or 0), dpi=int(p.get("dpi") or 0),
                image_key=keys.page_key(sha, n, "web") if (n, "web") in sums else None,
                thumb_key=keys.page_key(sha, n, "thumb") if (n, "thumb") in sums else None,
                words_key=keys.page_key(sha, n, "words") if (n, "words") in sums else None,
                **derivative_sums(image=sums.get((n, "web")), thumb=sums.get((n, "thumb")),
                                  words=sums.get((n, "words")))))
        for row in meta.get("nis", []):
            session.add(_link(doc.id, row))
        for ident in meta.get("identificadores", []):
            session.add(DocumentIdentifier(document_id=doc.id, kind=ident["tipo"],
                                           value=ident["valor"]))
        events = list(meta.get("auditoria") or [])
        details: dict[str, Any] = {
            "bolsa": bag_label, "exportado": info.get("Archivo-Exportado"),
            "version_origen": info.get("Archivo-Version"), "numero_en_bolsa": meta.get("numero"),
            "sha256": sha, "eventos_verificados": verified_events(events), "eventos": events}
        audit.record(session, actor, RESTORE_ACTION, "documento", number, details)
        session.flush()
        doc_id = doc.id
    report.created.append(number)
    if number != meta.get("numero"):
        report.renumbered[str(meta.get("numero"))] = number
    report.to_index.append(doc_id)
    if status is DocumentStatus.RECIBIDO:
        report.to_process.append(doc_id)


def _complete_existing(session: Session, doc: Document, folder: Path, meta: dict[str, Any],
                       actor: str, report: ImportReport, repaired: int, written: Written) -> None:
    """The original is archived already: add what the bag knows and this archive lacks."""
    store = written.store
    have = {l.nis for l in doc.supplies}
    new_links = [row for row in meta.get("nis", []) if row["nis"] not in have]
    for row in new_links:
        session.add(_link(doc.id, row))
    have_ids = {(i.kind, i.value) for i in doc.identifiers}
    new_ids = sorted({(i["tipo"], i["valor"]) for i in meta.get("identificadores", [])} - have_ids)
    for kind, value in new_ids:
        session.add(DocumentIdentifier(document_id=doc.id, kind=kind, value=value))
    # Objects lost from the store come back from the bag when they are the same content.
    pdf = meta.get("pdf")
    if pdf and doc.pdf is not None and doc.pdf.sha256 == pdf["sha256"] \
            and not store.exists(doc.pdf.storage_key):
        written.put(doc.pdf.storage_key, _member(folder, pdf["archivo"]), pdf, "application/pdf")
        repaired += 1
    in_bag = {(n, k): (path, entry) for n, k, path, entry in _page_derivatives(meta, folder)}
    for page in doc.pages:
        for kind, column in (("web", "image"), ("thumb", "thumb"), ("words", "words")):
            key, recorded = getattr(page, f"{column}_key"), getattr(page, f"{column}_sha256")
            found = in_bag.get((page.number, kind))
            if not key or not found or (recorded and recorded != found[1]["sha256"]):
                continue  # nothing to put back, or the bag holds other bytes than recorded
            if not store.exists(key):
                written.put(key, found[0], found[1], MEDIA[kind])
                if recorded is None:  # a row from before sums were recorded: record them now
                    setattr(page, f"{column}_sha256", found[1]["sha256"])
                    setattr(page, f"{column}_size", int(found[1]["bytes"]))
                repaired += 1
    report.objects_repaired += repaired
    if not (new_links or new_ids or repaired):
        report.reused.append(doc.archive_number)
        return
    mark_document_changed(doc)
    audit.record(session, actor, RESTORE_ACTION, "documento", doc.archive_number,
                 {"modo": "existente", "numero_en_bolsa": meta.get("numero"),
                  "sha256": doc.original.sha256, "nis_agregados": [r["nis"] for r in new_links],
                  "identificadores_agregados": [f"{k}:{v}" for k, v in new_ids],
                  "objetos_reparados": repaired})
    report.updated.append(doc.archive_number)
    report.to_index.append(doc.id)


# -- entry point -------------------------------------------------------------

def import_bag(services: Services, path: str | os.PathLike[str], *, actor: str = "sistema",
               progress: Progress | None = None) -> ImportReport:
    """Check the whole bag, then restore its supplies and documents (see the module docstring)."""
    bag = validate_bag(path)
    root = Path(bag.path)
    data = root / "data"
    supplies = _read_json(data / SUPPLIES_FILE, "el registro de suministros") \
        if (data / SUPPLIES_FILE).is_file() else {"formato": SUPPLY_FORMAT}
    documents = _documents(data)
    sums = payload_sums(bag)
    for folder, _ in documents:  # everything checked before the first write
        check_document(folder, _load_meta(folder), sums)
    info = {k: (v[0] if isinstance(v, list) else v) for k, v in bag.info.items()}
    report = ImportReport()
    with session_scope(services.sessions) as session:
        # Counters first: a document renumbered because its number is taken here must not
        # take a number that a later document of the bag brings.
        for number in {n for _, n in documents}:
            if ARCHIVE_NUMBER_RE.fullmatch(number):
                _bump_sequence(session, number)
        try:
            _restore_supplies(session, supplies, actor, report)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BagRefused(f"«{SUPPLIES_FILE}» está incompleto o es inválido (campo o valor: "
                             f"{exc}). No se importó nada.") from None
    for i, (folder, number) in enumerate(documents):
        written = Written(services.store)
        try:
            _restore_document(services, folder, _load_meta(folder), root.name, info, actor,
                              report, written)
        except Exception as exc:
            try:
                written.undo(services)
            except Exception:  # noqa: BLE001 - the store or database is down: report anyway
                log.exception("no se pudieron borrar los objetos escritos de %s; «archivo check "
                              "--objetos» los mostrará como huérfanos", folder.name)
            raise ImportIncomplete(_stopped(report, folder.name, [n for _, n in documents[i:]],
                                            exc), report) from exc
        if progress:
            progress(folder.name)
    return report


def _numbers(numbers: list[str]) -> str:
    shown = ", ".join(numbers[:MAX_NUMBERS_SHOWN])
    more = len(numbers) - MAX_NUMBERS_SHOWN
    return shown + (f" y {more} más" if more > 0 else "") if numbers else "ninguno"


def _stopped(report: ImportReport, where: str, pending: list[str], exc: BaseException) -> str:
    """What was and was not restored when writing stopped at ``where``."""
    if isinstance(exc, ArchivoError):
        reason = str(exc)
    else:
        log.error("restauración detenida en %s", where, exc_info=exc)
        reason = "error inesperado (el detalle quedó en el registro)"
    done = report.restored()
    return (f"La restauración se detuvo en {where}: {reason} Restaurados ({len(done)}): "
            f"{_numbers(done)}. No restaurados ({len(pending)}): {_numbers(pending)}. Lo "
            "restaurado está completo; corrija el problema y vuelva a ejecutar «archivo "
            "import-bag»: lo que ya está no se duplica.")
