"""Rebuild the derivatives of a finished document from its stored original.

`archivo check --objetos` reports page images, thumbnails, word boxes and
searchable PDFs that are missing or no longer match their recorded SHA-256.
All of them are derived from the original, so they can be rebuilt: the
original is re-read (and its own SHA-256 checked first), the affected pages
go through the same ``_process_page`` as at ingest (same code, same keys) and
the PDF through the same ``_store_pdf``. Then only derivative columns change
(keys, sums, image geometry); the page text, links, type, title, status,
review state and anything a person edited stay as they are, and the search
index is not touched (its input, ``Page.text``, does not change).

Re-running OCR on the same image gives the same words, so the word boxes
match the stored text; if they ever do not (another Tesseract version), the
stored text is kept and the page is named in the result.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from archive import audit
from archive.bag_export import ARCHIVE_NUMBER_RE
from archive.db import read_scope, session_scope
from archive.editing import IN_PIPELINE
from archive.errors import ArchivoError, ObjectNotFound
from archive.models import PAGE_DERIVATIVES, Blob, Document, Page, derivative_sums, utcnow
from archive.services import Services
from archive.storage import ObjectStore
from archive.storage.base import copy_hashing
from archive.words import read_words_blob

from . import scratch, split
from .errors import RejectedInput
from .pages import iter_pages
from .page_result import PageResult
from .process import _process_page, _record_pdf, _store_pdf, limits_of, scratch_dir
from .sniff import sniff

ACTION = "documento.derivados_regenerados"
MISSING, DAMAGED = "falta", "dañado"
# Page derivative column prefix -> Spanish name (audit details), and for messages the
# name with its article, "was missing" and "damaged".
KIND_NAMES = {"image": "imagen", "thumb": "miniatura", "words": "palabras"}
KIND_WORDS = {"image": ("la imagen", "faltaba", "dañada"),
              "thumb": ("la miniatura", "faltaba", "dañada"),
              "words": ("las palabras", "faltaban", "dañadas")}
_RESTORE = ("Restaure el original desde una bolsa exportada antes («archivo import-bag BOLSA») "
            "o desde la copia de seguridad del almacenamiento y vuelva a intentarlo.")
_REPLACE = ("Repóngalo desde una bolsa exportada antes («archivo import-bag BOLSA»: la "
            "restauración vuelve a calcular la suma del original guardado y reemplaza uno "
            "dañado) o desde la copia de seguridad del almacenamiento, y vuelva a intentarlo.")


class RegenerateRefused(ArchivoError):
    """The document's derivatives cannot (or may not) be rebuilt now; the message says why."""


@dataclass(frozen=True)
class _PageRow:
    id: int
    number: int
    text: str
    text_source: str
    confidence: float | None
    rotation: int
    skew: float
    width: int
    height: int
    dpi: int
    keys: dict[str, str | None]  # kind -> key
    sums: dict[str, tuple[str, int] | None]  # kind -> recorded (sha256, size)


@dataclass(frozen=True)
class _Snapshot:
    """What the database says about the document when the run starts."""

    id: int
    number: str
    original_id: int
    original_key: str
    original_sha: str
    original_size: int
    pdf: tuple[str, str, int] | None  # (key, sha256, size) of the recorded PDF
    pages: list[_PageRow]


@dataclass
class Regeneration:
    """What one run found and rebuilt; ``lines()`` tells it in Spanish."""

    number: str
    found: dict[int, dict[str, str]] = field(default_factory=dict)  # page -> kind -> state
    pdf_found: str | None = None  # MISSING / DAMAGED / None
    pages: list[int] = field(default_factory=list)  # pages whose derivatives were rewritten
    pdf: bool = False  # searchable PDF rewritten
    text_differs: list[int] = field(default_factory=list)  # OCR read another text this time

    @property
    def done(self) -> bool:
        return bool(self.pages or self.pdf)

    def lines(self) -> list[str]:
        if not self.done:
            return [f"{self.number}: no falta ni está dañado ninguno de sus derivados; no hay "
                    "nada que regenerar."]
        found: list[str] = []
        for n, kinds in sorted(self.found.items()):
            for kind, state in kinds.items():
                noun, missing, damaged = KIND_WORDS[kind]
                found.append(f"{noun} de la página {n}: "
                             f"{damaged if state == DAMAGED else missing}")
        if self.pdf_found:
            found.append(f"el PDF buscable: {'dañado' if self.pdf_found == DAMAGED else 'faltaba'}")
        rebuilt: list[str] = []
        if self.pages:
            rebuilt.append(f"imagen, miniatura y palabras de {_pages(self.pages)}")
        if self.pdf:
            rebuilt.append("el PDF buscable")
        out = [f"{self.number}: regenerados desde el original: {' y '.join(rebuilt)}"
               + (f" ({'; '.join(found)})." if found else " (estaban bien: regenerados a pedido).")]
        if self.text_differs:
            out.append(f"{self.number}: el reconocimiento leyó ahora un texto distinto del "
                       f"guardado en {_pages(self.text_differs)}; se conserva el texto guardado "
                       "(las palabras marcadas sobre la imagen salen de la lectura nueva).")
        return out

    def details(self) -> dict[str, Any]:
        """For the audit event."""
        def named(n: int, state: str) -> list[str]:
            return [KIND_NAMES[k] for k, s in self.found.get(n, {}).items() if s == state]

        return {"paginas": [{"pagina": n, "faltaban": named(n, MISSING),
                             "danados": named(n, DAMAGED)} for n in self.pages],
                "pdf": self.pdf, "pdf_estado": self.pdf_found,
                "texto_distinto": self.text_differs}


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"la página {numbers[0]}"
    return "las páginas " + ", ".join(map(str, numbers[:-1])) + f" y {numbers[-1]}"


def parse_number(raw: str) -> str:
    """An archive number as typed (any case, spaces) -> ``ARC-AAAA-NNNNNN``."""
    value = raw.strip().upper()
    if not ARCHIVE_NUMBER_RE.fullmatch(value):
        raise RegenerateRefused(f"«{raw}» no es un número de archivo (ARC-AAAA-NNNNNN).")
    return value


# -- what the database says, and what the store holds --------------------------------


def _load(services: Services, number: str) -> _Snapshot:
    with read_scope(services.sessions) as session:
        doc = session.scalar(select(Document).where(Document.archive_number == number))
        if doc is None:
            raise RegenerateRefused(f"No existe el documento {number}.")
        if doc.status in IN_PIPELINE:
            raise RegenerateRefused(
                f"El documento {number} todavía se está procesando (estado: {doc.status.label}): "
                "sus derivados se escriben al terminar. Espere a que termine y vuelva a "
                "verificar con «archivo check --objetos».")
        rows = list(session.scalars(select(Page).where(Page.document_id == doc.id)
                                    .order_by(Page.number)))
        if not rows:
            batch = split.existing_batch(session, doc.id) is not None
            raise RegenerateRefused(
                f"El documento {number} no tiene páginas (estado: {doc.status.label}), así que "
                "no tiene derivados que regenerar" + (
                    ": es un lote escaneado; sus páginas están en los documentos que se "
                    "separaron de él." if batch else "."))
        pdf = doc.pdf
        return _Snapshot(
            doc.id, number, doc.original.id, doc.original.storage_key, doc.original.sha256,
            doc.original.size, (pdf.storage_key, pdf.sha256, pdf.size) if pdf else None,
            [_PageRow(p.id, p.number, p.text, p.text_source, p.ocr_confidence, p.rotation,
                      p.skew, p.width, p.height, p.dpi,
                      {k: getattr(p, f"{k}_key") for k in PAGE_DERIVATIVES},
                      {k: _recorded(p, k) for k in PAGE_DERIVATIVES}) for p in rows])


def _recorded(page: Page, kind: str) -> tuple[str, int] | None:
    sha, size = getattr(page, f"{kind}_sha256"), getattr(page, f"{kind}_size")
    return None if sha is None or size is None else (sha, size)


def _sum(store: ObjectStore, key: str) -> tuple[str, int]:
    with store.open(key) as fh:
        return copy_hashing(fh.read, lambda _chunk: None)


def _state(store: ObjectStore, key: str | None, recorded: tuple[str, int] | None) -> str | None:
    """MISSING, DAMAGED or None (the recorded bytes, or present with no sum to compare)."""
    if key is None:
        return MISSING
    try:
        if recorded is None:  # a row from before sums were recorded: presence is all we know
            store.stat(key)
            return None
        return None if _sum(store, key) == recorded else DAMAGED
    except ObjectNotFound:
        return MISSING


def _survey(services: Services, snap: _Snapshot, result: Regeneration) -> None:
    store = services.store
    for page in snap.pages:
        for kind in PAGE_DERIVATIVES:
            state = _state(store, page.keys[kind], page.sums[kind])
            if state:
                result.found.setdefault(page.number, {})[kind] = state
    if snap.pdf is None:
        result.pdf_found = MISSING
    else:
        key, sha, size = snap.pdf
        result.pdf_found = _state(store, key, (sha, size))


def _fetch_original(services: Services, snap: _Snapshot, path: Path) -> None:
    """Copy the original to ``path``, refusing it unless its bytes are the recorded ones."""
    what = f"el original de {snap.number} ({snap.original_key})"
    try:
        with services.store.open(snap.original_key) as src, path.open("wb") as dst:
            sha, size = copy_hashing(src.read, dst.write)
    except ObjectNotFound:
        raise RegenerateRefused(f"Falta {what} en el almacenamiento: no hay desde dónde "
                                f"regenerar sus derivados. {_RESTORE}") from None
    if (sha, size) != (snap.original_sha, snap.original_size):
        raise RegenerateRefused(
            f"Está dañado {what}: no coincide con su suma SHA-256 registrada (esperada "
            f"{snap.original_sha[:12]}…, calculada {sha[:12]}…; {size} de {snap.original_size} "
            f"bytes), así que no se regenera nada desde él. {_REPLACE}")


# -- rebuilding ----------------------------------------------------------------------


def _rebuild_pages(services: Services, snap: _Snapshot, path: Path,
                   wanted: set[int]) -> dict[int, PageResult]:
    """Run the ingest page step on the pages in ``wanted``; the others are only decoded."""
    limits = limits_of(services)
    results: dict[int, PageResult] = {}
    try:
        for page in iter_pages(path, sniff(path, limits), limits, gray=True):
            if page.number in wanted:
                results[page.number] = _process_page(services, snap.original_sha, page)
            else:
                page.image.close()
            if len(results) == len(wanted):
                break
    except RejectedInput as exc:  # e.g. a page limit lowered since it was archived
        raise RegenerateRefused(f"No se pudo regenerar {snap.number}: {exc}") from exc
    lost = sorted(wanted - set(results))
    if lost:
        raise RegenerateRefused(f"El original de {snap.number} no tiene {_pages(lost)} que "
                                "registra la base; no se regeneró nada.")
    return results


def _stored_result(store: ObjectStore, page: _PageRow) -> PageResult:
    """A page left as it is, for the PDF: its stored image and word boxes."""
    words_key = page.keys["words"]
    words = read_words_blob(store.get_bytes(words_key)) if words_key else []
    return PageResult(page.number, page.text, page.text_source, page.confidence, page.rotation,
                      page.skew, page.width, page.height, page.dpi, words,
                      page.keys["image"] or "", page.keys["thumb"] or "", words_key or "")


def _record(services: Services, snap: _Snapshot, results: dict[int, PageResult],
            pdf: tuple[str, int, str] | None, result: Regeneration, actor: str) -> None:
    """One transaction: new keys and sums on the pages, the PDF blob, the audit event."""
    with session_scope(services.sessions) as session:
        status = session.scalar(select(Document.status).where(Document.id == snap.id))
        rows = {p.number: p for p in session.scalars(select(Page).where(
            Page.document_id == snap.id))}
        if status in IN_PIPELINE or {p.id for p in rows.values()} != {p.id for p in snap.pages}:
            raise RegenerateRefused(
                f"El documento {snap.number} se volvió a procesar mientras se regeneraban sus "
                "derivados; ese proceso los escribe de nuevo. Verifique con «archivo check "
                "--objetos» cuando termine.")
        for number, r in results.items():
            page = rows[number]
            page.image_key, page.thumb_key, page.words_key = r.image_key, r.thumb_key, r.words_key
            for column, value in derivative_sums(image=r.image_sum, thumb=r.thumb_sum,
                                                 words=r.words_sum).items():
                setattr(page, column, value)
            # the geometry describes the image just written (the text stays as stored)
            page.width, page.height, page.dpi = r.width, r.height, r.dpi
            page.rotation, page.skew = r.rotation, r.skew
        now = utcnow()
        if pdf is not None:
            blob = _record_pdf(session, pdf)
            blob.verified_at = now
            # a PDF pointer is not an edit: keep updated_at as it was
            session.execute(update(Document).where(Document.id == snap.id,
                                                   Document.pdf_blob_id.is_distinct_from(blob.id))
                            .values(pdf_blob_id=blob.id, updated_at=Document.updated_at)
                            .execution_options(synchronize_session=False))
        session.execute(update(Blob).where(Blob.id == snap.original_id).values(verified_at=now))
        audit.record(session, actor, ACTION, "documento", snap.number, result.details())


def regenerate_document(services: Services, number: str, *, actor: str,
                        everything: bool = False) -> Regeneration:
    """Rebuild what is missing or damaged (``everything``: all derivatives) of ``number``.

    Raises :class:`RegenerateRefused` (Spanish) for a document in process, one
    without pages, or one whose original is itself missing or damaged.
    """
    snap = _load(services, parse_number(number))
    result = Regeneration(snap.number)
    _survey(services, snap, result)
    wanted = {p.number for p in snap.pages} if everything else set(result.found)
    rebuild_pdf = everything or result.pdf_found is not None
    if not wanted and not rebuild_pdf:
        return result
    workdir = scratch.make_dir(scratch_dir(services), "regenerar")
    try:
        path = workdir / "original"
        _fetch_original(services, snap, path)
        results = _rebuild_pages(services, snap, path, wanted) if wanted else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for page in snap.pages:
        r = results.get(page.number)
        if r is not None and r.text != page.text:
            result.text_differs.append(page.number)
    pdf = None
    if rebuild_pdf:
        pages = [results.get(p.number) or _stored_result(services.store, p) for p in snap.pages]
        pdf = _store_pdf(services, snap.original_sha, pages, snap.number)
    result.pages, result.pdf = sorted(results), pdf is not None
    _record(services, snap, results, pdf, result, actor)
    return result


__all__ = ["ACTION", "RegenerateRefused", "Regeneration", "parse_number", "regenerate_document"]
