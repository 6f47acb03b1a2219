"""Step 2-4 of ingest: pages -> OCR -> derivatives -> identifiers -> final status.

Everything a run produces is either written to deterministic storage keys
(re-running overwrites the same objects) or committed in one final
transaction guarded by the processing lease. A run killed at any point
leaves no pages, links or status behind; the next run starts clean.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive import audit, keys
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Blob, Document, Page, derivative_sums
from archive.errors import StorageError
from archive.services import Services
from archive.signals import DocumentsChanged, mark_document_changed

from . import claims, scratch, split
from .derivatives import scale_words, thumbnail, web_image, words_blob
from .errors import RejectedInput, TransientError
from .limits import Limits
from .ocr import TesseractMissing, ocr_page
from .pages import SourcePage, count_pages, iter_pages
from .pdf import build_document_pdf
from .separators import Separator, detect_separator
from .sniff import sniff
from .finish import Outcome, decide_outcome, apply_outcome
from .page_result import PageResult
from .processed import SKIPPED, Processed

log = logging.getLogger(__name__)

_slots_lock = threading.Lock()
_ocr_slots: threading.BoundedSemaphore | None = None


def ocr_slots(n: int) -> threading.BoundedSemaphore:
    """One process-wide gate: at most ``n`` tesseract processes, however many documents run."""
    global _ocr_slots
    with _slots_lock:
        if _ocr_slots is None:
            _ocr_slots = threading.BoundedSemaphore(n)
        return _ocr_slots


def scratch_dir(services: Services) -> Path:
    """Per-archive private scratch space (0700); what a killed worker leaves here is swept on start."""
    return scratch.private_root(services.settings.home / "tmp")


def sweep_scratch(services: Services) -> int:
    """Remove what dead workers left in the scratch space (see ``ingest.scratch.sweep``)."""
    return scratch.sweep(scratch_dir(services))


def limits_of(services: Services) -> Limits:
    s = services.settings
    return Limits(max_bytes=s.max_file_bytes, max_pages=s.max_pages, max_page_pixels=s.max_page_pixels)


MAX_ATTEMPTS = 8  # claims of one document before it is given up as an error
# Faults of the surroundings, not of the file: the task is retried with backoff.
TRANSIENT: tuple[type[BaseException], ...] = (StorageError, OperationalError, TransientError,
                                              TesseractMissing)


class _LeaseLost(Exception):
    """Another worker took the document over; this run must not write anything."""


def process_document(services: Services, document_id: int) -> str:
    """Process one document if it can be claimed; returns the final status or ``"omitido"``.

    The documents a split leaves waiting are not queued here: the worker's task
    (``ingest.tasks``) queues them, and otherwise the sweeper picks them up.
    """
    return run_document(services, document_id).status


def run_document(services: Services, document_id: int) -> Processed:
    """Process one document if it can be claimed; see :class:`Processed`."""
    settings = services.settings
    token = claims.claim(services.sessions, document_id, settings.lease_s)
    if token is None:
        return Processed(SKIPPED)
    # A page stuck longer than this (a decoder hang) stops the lease renewals, so the
    # document is retried elsewhere and, after MAX_ATTEMPTS claims, given up.
    stall_s = settings.page_timeout_s * 4 + 60
    renew = lambda: claims.renew(services.sessions, document_id, token)  # noqa: E731
    with claims.Heartbeat(renew, settings.lease_s / 3, stall_s=stall_s) as beat:
        try:
            return _process_claimed(services, document_id, token, beat)
        except RejectedInput as exc:
            _fail(services, document_id, token, exc)
            return Processed(DocumentStatus.ERROR.value)
        except _LeaseLost:
            log.warning("documento %s: otro trabajador retomó el proceso", document_id)
            return Processed(SKIPPED)
        except TRANSIENT as exc:
            if _attempts(services, document_id) >= MAX_ATTEMPTS:
                _fail(services, document_id, token, _gave_up(exc))
                return Processed(DocumentStatus.ERROR.value)
            claims.release(services.sessions, document_id, token)
            raise
        except Exception as exc:  # a bug or an unforeseen decoder fault: never loop on it
            log.exception("documento %s: error inesperado", document_id)
            _fail(services, document_id, token, RejectedInput(
                "interno", f"Error inesperado al procesar el archivo ({type(exc).__name__}: {exc}). "
                           "El original quedó guardado; avise al administrador del sistema."))
            return Processed(DocumentStatus.ERROR.value)


def _process_claimed(services: Services, document_id: int, token: str,
                     beat: claims.Heartbeat) -> Processed:
    with session_scope(services.sessions) as session:
        doc = session.get(Document, document_id)
        assert doc is not None
        original, attempts, number = doc.original, doc.attempts, doc.archive_number
        already_split = split.existing_batch(session, document_id) is not None
        # A document cut out of a batch has no separators left; never cut it again.
        detect = split.part_of(session, document_id) is None
    if attempts > MAX_ATTEMPTS:
        raise _gave_up(None)
    if already_split:  # reprocessing a batch upload: its parts stand, or as corrected
        return split.finish(services, document_id, token, None,
                            _rebuild_parts(services, document_id, original, beat))
    results = _run_pages(services, original, beat, detect=detect)
    if isinstance(results, split.Split):
        return split.finish(services, document_id, token, results)
    pdf_blob = _store_pdf(services, original.sha256, results, number)
    outcome = decide_outcome(services, document_id, results)
    return Processed(_finish(services, document_id, token, results, pdf_blob, outcome))


def _gave_up(exc: BaseException | None) -> RejectedInput:
    why = f" ({exc})" if exc else ""
    return RejectedInput("reintentos", f"No se pudo procesar tras {MAX_ATTEMPTS} intentos{why}. "
                                       "El original está guardado; reprocese el documento cuando "
                                       "el servicio se normalice o avise al administrador.")


def _attempts(services: Services, document_id: int) -> int:
    with session_scope(services.sessions) as session:
        return int(session.scalar(select(Document.attempts).where(Document.id == document_id)) or 0)


def _run_pages(services: Services, original: Blob, beat: claims.Heartbeat, *,
               detect: bool = True) -> list[PageResult] | split.Split:
    """OCR every page; or, once a separator sheet shows up, plan and build a split.

    Pages are checked for separator sheets as they are read (a few ms each).
    From the first separator on, no more pages go to OCR; the pages already
    sent are discarded (their part is OCR'd as its own document later).
    """
    limits = limits_of(services)
    workdir = scratch.make_dir(scratch_dir(services), "doc")
    try:
        path = workdir / "original"
        with services.store.open(original.storage_key) as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        kind = sniff(path, limits)
        total = count_pages(path, kind, limits)
        workers = services.settings.ocr_workers
        gate = threading.BoundedSemaphore(workers + 1)  # pages decoded but not yet finished
        futures: list[Future[PageResult]] = []
        separators: dict[int, Separator] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archivo-ocr") as pool:
            # Grey: OCR and every derivative of a scan are grey (a split re-reads in colour).
            for page in iter_pages(path, kind, limits, gray=True):
                gate.acquire()
                if beat.lost.is_set():
                    raise _LeaseLost()
                beat.touch()
                found = detect_separator(page.image) if detect else None
                if found is not None or separators:  # a batch: only look for separators now
                    if found is not None:
                        if not separators:
                            for fut in futures:
                                fut.cancel()
                        separators[page.number] = found
                    page.image.close()
                    gate.release()
                    del page
                    continue
                _raise_first_error(futures)
                fut = pool.submit(_process_page, services, original.sha256, page)
                fut.add_done_callback(lambda _f: (gate.release(), beat.touch()))
                futures.append(fut)
                del page
            if not separators:
                results = [f.result() for f in futures]
        if separators:
            _discard_pages(services, original.sha256)
            if beat.lost.is_set():
                raise _LeaseLost()
            return split.build(services, path, kind, limits, original.sha256, separators, total,
                               beat.touch)
        if not results:
            raise RejectedInput("sin_paginas", "El archivo no contiene ninguna página legible.")
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _rebuild_parts(services: Services, document_id: int, original: Blob,
                   beat: claims.Heartbeat) -> list[split.BuiltPart]:
    """New originals for the parts of a batch that a person corrected (usually none)."""
    with session_scope(services.sessions) as session:
        cuts = split.due_cuts(session, document_id)
    if not cuts:
        return []
    limits = limits_of(services)
    workdir = scratch.make_dir(scratch_dir(services), "lote")
    try:
        path = workdir / "original"
        with services.store.open(original.storage_key) as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        kind = sniff(path, limits)
        return split.build_cuts(services, path, kind, limits, original.sha256, cuts, beat.touch)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _discard_pages(services: Services, sha256: str) -> None:
    """A batch upload has no pages of its own: remove page images OCR'd before the first
    separator showed up (or by an earlier run, if the upload is reprocessed)."""
    for obj in list(services.store.iterate(keys.pages_prefix(sha256))):
        services.store.delete(obj.key)


def _raise_first_error(futures: list[Future[PageResult]]) -> None:
    """Stop feeding pages as soon as one page failed (e.g. a corrupt frame)."""
    for fut in futures:
        if fut.done() and fut.exception() is not None:
            fut.result()


def _process_page(services: Services, sha256: str, page: SourcePage) -> PageResult:
    settings = services.settings
    if page.text_layer is not None and page.words is not None:
        image, text, words, conf, rotation, skew, source = (
            page.image, page.text_layer, page.words, None, 0, 0.0, "pdf")
    else:
        with ocr_slots(settings.ocr_workers):
            result = ocr_page(page.image, dpi=page.dpi, languages=settings.ocr_languages,
                              timeout_s=settings.page_timeout_s, scratch=scratch_dir(services))
        image, text, words, conf = result.image, result.text, result.words, result.mean_conf
        rotation, skew, source = result.rotation, result.skew, "ocr"
    web = web_image(image, page.dpi)
    scaled = scale_words(words, web.width / image.width)
    store = services.store
    image_key = keys.page_key(sha256, page.number, "web")
    thumb_key = keys.page_key(sha256, page.number, "thumb")
    words_key = keys.page_key(sha256, page.number, "words")
    web_obj = store.put_bytes(image_key, web.data, media_type="image/jpeg")
    thumb_obj = store.put_bytes(thumb_key, thumbnail(image), media_type="image/jpeg")
    words_obj = store.put_bytes(words_key, words_blob(scaled), media_type="application/gzip")
    image.close()
    return PageResult(page.number, text, source, conf, rotation, skew, web.width, web.height,
                      web.dpi, scaled, image_key, thumb_key, words_key,
                      (web_obj.sha256, web_obj.size), (thumb_obj.sha256, thumb_obj.size),
                      (words_obj.sha256, words_obj.size))


def _store_pdf(services: Services, sha256: str, results: list[PageResult],
               archive_number: str) -> tuple[str, int, str]:
    """Build the searchable PDF in a temp file and store it; returns (key, size, sha256)."""
    key = keys.pdf_key(sha256)
    with tempfile.TemporaryFile() as tmp:
        build_document_pdf(services.store, results, tmp, archive_number=archive_number,
                           scratch=scratch_dir(services))
        tmp.seek(0)
        stored = services.store.put(key, tmp, media_type="application/pdf")  # type: ignore[arg-type]
    return stored.key, stored.size, stored.sha256


def _record_pdf(session: Session, pdf: tuple[str, int, str]) -> Blob:
    """The blob row of a searchable PDF just stored (key, size, sha256): created or updated."""
    pdf_key, pdf_size, pdf_sha = pdf
    blob = session.scalar(select(Blob).where(Blob.storage_key == pdf_key))
    if blob is None:
        blob = Blob(sha256=pdf_sha, size=pdf_size, media_type="application/pdf",
                    storage_key=pdf_key)
        session.add(blob)
        session.flush()
    else:
        blob.sha256, blob.size = pdf_sha, pdf_size
    return blob


def _finish(services: Services, document_id: int, token: str, results: list[PageResult],
            pdf: tuple[str, int, str], outcome: Outcome) -> str:
    with session_scope(services.sessions) as session:
        doc = claims.still_owned(session, document_id, token)
        if doc is None:
            return SKIPPED
        session.execute(delete(Page).where(Page.document_id == document_id))
        for r in results:
            session.add(Page(document_id=document_id, number=r.number, text=r.text,
                             text_source=r.text_source, ocr_confidence=r.confidence,
                             rotation=r.rotation, skew=r.skew, width=r.width,
                             height=r.height, dpi=r.dpi, image_key=r.image_key,
                             thumb_key=r.thumb_key, words_key=r.words_key,
                             **derivative_sums(image=r.image_sum, thumb=r.thumb_sum,
                                               words=r.words_sum)))
        doc.pdf_blob_id = _record_pdf(session, pdf).id
        doc.page_count = len(results)
        apply_outcome(session, doc, outcome)
        doc.claim_token = None
        doc.claimed_at = None
        doc.error_code = doc.error_message = None
        audit.record(session, "sistema", "documento.procesar", "documento", doc.archive_number,
                     {"estado": doc.status.value, "paginas": doc.page_count,
                      "nis": doc.nis_list, "tipo": doc.doc_type.value,
                      "motivos": doc.review_reasons})
        status = doc.status.value
    services.signals.send(DocumentsChanged((document_id,)))
    return status


def _fail(services: Services, document_id: int, token: str, exc: RejectedInput) -> None:
    with session_scope(services.sessions) as session:
        doc = claims.still_owned(session, document_id, token)
        if doc is None:
            return
        _mark_failed(session, doc, exc)
    services.signals.send(DocumentsChanged((document_id,)))


def _mark_failed(session: Session, doc: Document, exc: RejectedInput) -> None:
    session.execute(delete(Page).where(Page.document_id == doc.id))
    doc.status = DocumentStatus.ERROR
    doc.error_code = exc.code
    doc.error_message = str(exc)
    doc.claim_token = None
    doc.claimed_at = None
    mark_document_changed(doc)  # a reprocessed document that now fails must leave the index
    audit.record(session, "sistema", "documento.rechazar", "documento", doc.archive_number,
                 {"codigo": exc.code, "motivo": str(exc)})


__all__ = ["process_document", "run_document", "Processed", "TransientError"]
