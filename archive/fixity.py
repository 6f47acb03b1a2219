"""Fixity: prove that every stored object is the one the database recorded.

Small ``_check_*`` functions each look at one thing and add Spanish lines to a
:class:`FixityReport`; :func:`check_objects` and :func:`check_audit` run them.

* Full run: re-hash every ``Blob`` (originals and searchable PDFs) and every
  page derivative (image, thumbnail, word boxes) against the SHA-256 and size
  recorded when it was written, then stream the store listing in chunks and
  ask the database, one query per chunk, which listed keys a row names: the
  others are orphans. With ``clean=True`` orphans older than the grace period
  are deleted. Memory stays bounded by the chunk size, not the archive size.
* Sample run (``sample=N``): re-hash the N least recently verified blobs and
  the page derivatives of their documents; no listing, no orphans.

Every blob that hashes correctly gets ``verified_at`` set, so successive
samples rotate through the whole archive (page derivatives ride along with
their document's original). Page rows written before migration 0009 have no
recorded sum: their derivatives are only checked for presence and counted as
"sin suma registrada" until ``fill_sums=True`` (``--registrar-sumas``) hashes
the stored bytes and records them.

Nightly: :func:`register_fixity_task` adds the queue task
``archivo.integridad`` and subscribes it to the worker's sweep (``signals.Sweep``), which
asks for it during the night when no scheduled check ran in the last hours.
The outcome is recorded in the audit trail as ``integridad.verificar``.

Audit chain: :func:`check_audit` verifies every event's hash, link and seal
(the HMAC with the audit key, :mod:`archive.audit_key`) and compares the chain
with the anchors kept outside the database (:mod:`archive.audit_anchor`); when
everything agrees and ``anchor`` is given, it anchors the current head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Protocol

from sqlalchemy import func, or_, select, union_all, update
from sqlalchemy.orm import Session

from . import audit, audit_anchor, audit_key
from .db import session_scope
from .enums import DocumentStatus
from .errors import ObjectNotFound
from .localtime import local_datetime
from .models import AuditEvent, Blob, Document, Page, utcnow
from .services import Services
from .signals import Sweep
from .storage import AUDIT_ANCHORS_PREFIX, CHUNK_SIZE, ObjectInfo, ObjectStore

log = logging.getLogger(__name__)

DEFAULT_GRACE_DAYS = 7
BATCH = 500
LIST_CHUNK = 1000  # listed keys per "which of these does a row name?" query
SHOWN = 20  # problem lines printed per kind; the counts are always complete
AUDIT_ACTION = "integridad.verificar"

# Nightly schedule (see register_fixity_task).
TASK_NAME = "archivo.integridad"
NIGHTLY_SAMPLE = 500  # blobs re-hashed per night
NIGHT_HOURS = range(2, 6)  # Asunción local time: starts between 02:00 and 05:59
MIN_INTERVAL = dt.timedelta(hours=20)  # at most one scheduled check per night
REQUEST_EVERY_S = 15 * 60  # a worker asks the queue at most this often
LOCK_STALE = dt.timedelta(hours=12)  # a lock left by a killed worker expires

# Page derivatives: column prefix (<kind>_key, <kind>_sha256, <kind>_size) and the Spanish
# words of the report (name with article, "missing" verb, "damaged", "does not match").
_PAGE_KINDS = (("image", ("la imagen", "Falta", "Dañada", "no coincide")),
               ("thumb", ("la miniatura", "Falta", "Dañada", "no coincide")),
               ("words", ("las palabras", "Faltan", "Dañadas", "no coinciden")))


class Progress(Protocol):
    """What the checks report while they run (the CLI draws a tqdm bar on stderr)."""

    def stage(self, label: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NoProgress:
    def stage(self, label: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class FixityReport:
    """Outcome of an object check; ``lines`` are Spanish, ready to print."""

    mode: str  # "completo" | "muestra"
    grace_days: int = DEFAULT_GRACE_DAYS
    listed: int = 0  # objects in the store (full run only)
    hashed: int = 0  # blobs re-hashed
    hashed_bytes: int = 0  # bytes read to re-hash blobs and derivatives
    derivatives: int = 0  # page derivatives confirmed present
    derivatives_hashed: int = 0  # of those, re-hashed against their recorded sum
    unsummed: int = 0  # of those, without a recorded sum (rows from before migration 0009)
    registered: int = 0  # sums recorded by fill_sums=True
    skipped: int = 0  # objects of documents a worker is processing at this moment
    missing: list[str] = field(default_factory=list)  # keys named by rows, not stored
    corrupted: list[str] = field(default_factory=list)  # stored, but other bytes
    orphans: list[Any] = field(default_factory=list)  # ObjectInfo older than the grace period
    young_orphans: list[ObjectInfo] = field(default_factory=list)  # kept, not a problem yet
    removed: list[str] = field(default_factory=list)  # orphans deleted by clean=True
    regenerate: list[str] = field(default_factory=list)  # documents with bad derivatives
    lines: dict[str, list[str]] = field(default_factory=dict)  # kind -> Spanish lines

    def add(self, kind: str, item: Any, line: str) -> None:
        """Record ``item`` (a key, or an ObjectInfo for orphans) and its Spanish line."""
        getattr(self, kind).append(item)
        self.lines.setdefault(kind, []).append(line)

    def derived_from(self, number: str) -> None:
        """A derivative of ``number`` is missing or damaged: reprocessing rebuilds it."""
        if number not in self.regenerate:
            self.regenerate.append(number)

    @property
    def problems(self) -> int:
        removed = set(self.removed)
        left = [o for o in self.orphans if o.key not in removed]
        return len(self.missing) + len(self.corrupted) + len(left)

    def problem_lines(self) -> list[str]:
        """Every problem as one Spanish line (missing, damaged, orphans not removed)."""
        removed = set(self.removed)
        orphans = [line for o, line in zip(self.orphans, self.lines.get("orphans", []))
                   if o.key not in removed]
        return self.lines.get("missing", []) + self.lines.get("corrupted", []) + orphans

    def regenerate_hint(self) -> str | None:
        """What to do about missing or damaged derivatives, in Spanish; None if there are none."""
        if not self.regenerate:
            return None
        shown = ", ".join(self.regenerate[:SHOWN])
        more = f" y {len(self.regenerate) - SHOWN} más" if len(self.regenerate) > SHOWN else ""
        named = (f"«archivo regenerar {' '.join(self.regenerate)}» o "
                 if len(self.regenerate) <= 3 else "")
        return (f"Derivados faltantes o dañados en {len(self.regenerate)} documento(s) "
                f"({shown}{more}). Los derivados (imágenes, miniaturas, palabras, PDF buscable) "
                "se regeneran desde el original, que no se ve afectado, sin cambiar el texto, "
                f"los NIS ni el estado: {named}«archivo regenerar --danados» (todos los "
                "afectados).")

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def counts(self) -> dict[str, Any]:
        """For the audit event."""
        return {"modo": self.mode, "verificados": self.hashed, "bytes": self.hashed_bytes,
                "derivados": self.derivatives, "derivados_verificados": self.derivatives_hashed,
                "sin_suma": self.unsummed, "sumas_registradas": self.registered,
                "listados": self.listed, "omitidos": self.skipped,
                "faltantes": len(self.missing), "corruptos": len(self.corrupted),
                "huerfanos": len(self.orphans), "huerfanos_recientes": len(self.young_orphans),
                "eliminados": len(self.removed), "problemas": self.problems}


@dataclass
class AuditReport:
    events: int = 0
    problems: list[audit.ChainProblem] = field(default_factory=list)
    first_bad: AuditEvent | None = None  # detached copy of the first bad event, if it exists
    sealed_since: int = 1  # first event that must carry the audit key's seal
    anchors: int = 0  # anchors read and compared
    invalid_anchors: list[str] = field(default_factory=list)  # Spanish lines
    anchored: audit_anchor.AnchorWrite | None = None  # the head anchored by this check
    key_warning: str | None = None  # the key file is readable by others (Spanish)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + len(self.invalid_anchors)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def lines(self) -> list[str]:
        if not self.problems:
            return list(self.invalid_anchors)
        first = self.problems[0]
        out = [f"Primer evento con problemas: {first.event_id}"
               + (f" ({self.first_bad.action}, {self.first_bad.object_type} "
                  f"{self.first_bad.object_id}, {local_datetime(self.first_bad.at):%Y-%m-%d %H:%M})"
                  if self.first_bad is not None else "")]
        out += [p.message for p in self.problems]
        return out + self.invalid_anchors


# -- blobs (originals and searchable PDFs) -----------------------------------------


def _hash_object(store: ObjectStore, key: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with store.open(key) as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class _Owner:
    label: str  # "original de ARC-..." / "PDF buscable de ARC-..."
    number: str
    busy: bool  # a worker may be rewriting it right now
    derived: bool  # rebuilt from the original by reprocessing


def _owners(session: Session, blob_ids: list[int]) -> dict[int, _Owner]:
    """blob id -> who owns it, for the report."""
    out: dict[int, _Owner] = {}
    rows = session.execute(select(Document.archive_number, Document.status,
                                  Document.original_blob_id, Document.pdf_blob_id)
                           .where(or_(Document.original_blob_id.in_(blob_ids),
                                      Document.pdf_blob_id.in_(blob_ids))))
    for number, status, original_id, pdf_id in rows:
        busy = status is DocumentStatus.PROCESANDO
        if original_id in blob_ids:
            # an original is never rewritten
            out[original_id] = _Owner(f"original de {number}", number, False, False)
        if pdf_id in blob_ids:
            out[pdf_id] = _Owner(f"PDF buscable de {number}", number, busy, True)
    return out


def _check_blob(store: ObjectStore, blob: Blob, owner: _Owner | None,
                report: FixityReport) -> bool:
    """Re-hash one blob; True if its bytes are the recorded ones."""
    what = f"{owner.label if owner else 'objeto sin documento'} ({blob.storage_key})"
    try:
        sha256, size = _hash_object(store, blob.storage_key)
    except ObjectNotFound:
        report.add("missing", blob.storage_key, f"Falta el {what}.")
        if owner is not None and owner.derived:
            report.derived_from(owner.number)
        return False
    report.hashed += 1
    report.hashed_bytes += size
    if sha256 != blob.sha256 or size != blob.size:
        report.add("corrupted", blob.storage_key,
                   f"Dañado: el {what} no coincide con su suma SHA-256 registrada "
                   f"(esperada {blob.sha256[:12]}…, calculada {sha256[:12]}…; "
                   f"{size} de {blob.size} bytes).")
        if owner is not None and owner.derived:
            report.derived_from(owner.number)
        return False
    return True


def _check_blobs(services: Services, blobs: list[Blob], report: FixityReport,
                 progress: Progress) -> None:
    """Re-hash ``blobs`` (rows of one batch); stamp ``verified_at`` on the good ones."""
    with session_scope(services.sessions) as session:
        owners = _owners(session, [b.id for b in blobs])
    good: list[int] = []
    for blob in blobs:
        owner = owners.get(blob.id)
        if owner is not None and owner.busy:  # being rewritten; the next check sees the result
            report.skipped += 1
        elif _check_blob(services.store, blob, owner, report):
            good.append(blob.id)
        progress.advance()
    if good:
        with session_scope(services.sessions) as session:
            now = utcnow()
            for row in session.scalars(select(Blob).where(Blob.id.in_(good))):
                row.verified_at = now


# -- page derivatives (image, thumbnail, word boxes) ---------------------------------


def _page_columns() -> list[Any]:
    return [getattr(Page, f"{kind}_{part}") for kind, _ in _PAGE_KINDS
            for part in ("key", "sha256", "size")]


def _has_derivative() -> Any:
    return or_(*(getattr(Page, f"{kind}_key").is_not(None) for kind, _ in _PAGE_KINDS))


def _page_rows(session: Session, after: int, doc_ids: list[int] | None) -> list[Any]:
    query = (select(Page.id, Page.number, *_page_columns(), Document.archive_number,
                    Document.status)
             .join(Document, Document.id == Page.document_id)
             .where(_has_derivative()))
    if doc_ids is not None:
        query = query.where(Page.document_id.in_(doc_ids))
    return list(session.execute(query.where(Page.id > after).order_by(Page.id).limit(BATCH)))


def _still_bad(services: Services, page_id: int, kind: str, key: str,
               sha256: str | None) -> bool:
    """Asked again before reporting: the page may have been reprocessed since it was read."""
    key_col, sha_col = getattr(Page, f"{kind}_key"), getattr(Page, f"{kind}_sha256")
    with session_scope(services.sessions) as session:
        row = session.execute(select(key_col, sha_col, Document.status)
                              .join(Document, Document.id == Page.document_id)
                              .where(Page.id == page_id)).first()
    return (row is not None and row[0] == key and row[1] == sha256
            and row[2] is not DocumentStatus.PROCESANDO)


_Fill = tuple[int, str, str, str, int]  # page id, kind, key, sha256, size


def _check_page_key(services: Services, row: Any, kind: str, words: tuple[str, str, str, str],
                    report: FixityReport, fill_sums: bool, to_fill: list[_Fill]) -> None:
    key: str | None = getattr(row, f"{kind}_key")
    if not key:
        return
    if row.status is DocumentStatus.PROCESANDO:  # a worker rewrites (or discards) it now
        report.skipped += 1
        return
    store = services.store
    recorded: str | None = getattr(row, f"{kind}_sha256")
    noun, missing, damaged, differs = words
    what = f"{noun} de la página {row.number} de {row.archive_number} ({key})"
    try:
        if recorded is None and not fill_sums:
            store.stat(key)  # nothing to compare with: presence is all we can prove
            sha256, size = "", 0
        else:
            sha256, size = _hash_object(store, key)
    except ObjectNotFound:
        if _still_bad(services, row.id, kind, key, recorded):
            report.add("missing", key, f"{missing} {what}.")
            report.derived_from(row.archive_number)
        else:
            report.skipped += 1
        return
    report.derivatives += 1
    report.hashed_bytes += size
    if recorded is None:
        report.unsummed += 1
        if fill_sums:
            to_fill.append((row.id, kind, key, sha256, size))
        return
    report.derivatives_hashed += 1
    expected_size = getattr(row, f"{kind}_size")
    if sha256 == recorded and size == expected_size:
        return
    if not _still_bad(services, row.id, kind, key, recorded):
        report.skipped += 1  # reprocessed while we read it: the new sum is the one to trust
        return
    report.add("corrupted", key,
               f"{damaged}: {what} {differs} con su suma SHA-256 registrada "
               f"(esperada {recorded[:12]}…, calculada {sha256[:12]}…; {size} de "
               f"{expected_size} bytes). Se regenera desde el original con «archivo regenerar "
               f"{row.archive_number}».")
    report.derived_from(row.archive_number)


def _record_sums(services: Services, to_fill: list[_Fill]) -> int:
    """Record the sums of legacy derivatives, unless the row changed since it was read."""
    done = 0
    not_busy = select(Document.id).where(Document.status != DocumentStatus.PROCESANDO)
    with session_scope(services.sessions) as session:
        for page_id, kind, key, sha256, size in to_fill:
            result = session.execute(
                update(Page)
                .where(Page.id == page_id, getattr(Page, f"{kind}_key") == key,
                       getattr(Page, f"{kind}_sha256").is_(None),
                       Page.document_id.in_(not_busy))
                .values({f"{kind}_sha256": sha256, f"{kind}_size": size})
                .execution_options(synchronize_session=False))
            done += result.rowcount or 0  # type: ignore[attr-defined]
    return done


def _check_pages(services: Services, report: FixityReport, progress: Progress,
                 doc_ids: list[int] | None = None, fill_sums: bool = False) -> None:
    """Every derivative named by a page row exists and, if its sum is recorded, matches it."""
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            rows = _page_rows(session, after, doc_ids)
        if not rows:
            return
        after = rows[-1].id
        to_fill: list[_Fill] = []
        for row in rows:
            for kind, words in _PAGE_KINDS:
                _check_page_key(services, row, kind, words, report, fill_sums, to_fill)
            progress.advance()
        if to_fill:
            report.registered += _record_sums(services, to_fill)


# -- orphans: the store listing against the rows, chunk by chunk ----------------------


def _chunks(items: Iterable[ObjectInfo], size: int) -> Iterator[list[ObjectInfo]]:
    chunk: list[ObjectInfo] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _named_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of ``keys`` some row names: one query for the whole chunk (all indexed columns)."""
    query = union_all(
        select(Blob.storage_key.label("key")).where(Blob.storage_key.in_(keys)),
        *(select(getattr(Page, f"{kind}_key")).where(getattr(Page, f"{kind}_key").in_(keys))
          for kind, _ in _PAGE_KINDS))
    return set(session.scalars(query))


def _check_orphans(services: Services, report: FixityReport, progress: Progress, clean: bool,
                   now: dt.datetime, chunk_size: int = LIST_CHUNK) -> None:
    """Stream the listing (key order, lazily) and report what no row names."""
    edge = now - dt.timedelta(days=report.grace_days)
    progress.stage("Buscando huérfanos", None)
    listing = (info for info in services.store.iterate()  # anchors: no row names them
               if not info.key.startswith(AUDIT_ANCHORS_PREFIX))
    for chunk in _chunks(listing, chunk_size):
        report.listed += len(chunk)
        with session_scope(services.sessions) as session:
            named = _named_keys(session, [info.key for info in chunk])
        old: list[ObjectInfo] = []
        for info in chunk:
            if info.key in named:
                continue
            if info.modified > edge:
                report.young_orphans.append(info)
                report.lines.setdefault("young_orphans", []).append(
                    f"{info.key} ({info.size} bytes, {(now - info.modified).days} día(s)): "
                    "reciente, se conserva.")
            else:
                old.append(info)
        if old and clean:
            # Asked again right before deleting: a row may have appeared since the query.
            with session_scope(services.sessions) as session:
                named = _named_keys(session, [info.key for info in old])
            old = [info for info in old if info.key not in named]
        for info in old:
            if clean:
                services.store.delete(info.key)
                report.removed.append(info.key)
            report.add("orphans", info, f"Huérfano: {info.key} ({info.size} bytes, "
                                        f"{(now - info.modified).days} día(s)) no pertenece a "
                                        "ningún documento" + (" (eliminado)." if clean else "."))
        progress.advance(len(chunk))


# -- the object check ----------------------------------------------------------------


def _blob_batches(services: Services, sample: int | None) -> Iterator[list[Blob]]:
    """All blobs by id, or the ``sample`` least recently verified (never verified first)."""
    if sample is not None:
        with session_scope(services.sessions) as session:
            blobs = list(session.scalars(
                select(Blob).order_by(Blob.verified_at.is_(None).desc(), Blob.verified_at,
                                      Blob.id).limit(sample)))
            session.expunge_all()
        for start in range(0, len(blobs), BATCH):
            yield blobs[start:start + BATCH]
        return
    yield from _in_id_order(services, Blob)


def _in_id_order(services: Services, model: Any) -> Iterator[list[Any]]:
    """Every row of ``model`` in batches of ``BATCH``, by id, each read in its own session."""
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            rows = list(session.scalars(select(model).where(model.id > after)
                                        .order_by(model.id).limit(BATCH)))
            session.expunge_all()
        if not rows:
            return
        after = rows[-1].id
        yield rows


def check_objects(services: Services, *, sample: int | None = None, clean: bool = False,
                  grace_days: int = DEFAULT_GRACE_DAYS, fill_sums: bool = False,
                  progress: Progress | None = None,
                  list_chunk: int = LIST_CHUNK) -> FixityReport:
    """Re-hash blobs and page derivatives, find orphans (full run) and optionally delete them.

    ``fill_sums`` hashes the derivatives that have no recorded sum (rows from
    before migration 0009) and records what is stored now as their reference.
    """
    progress = progress or NoProgress()
    report = FixityReport("muestra" if sample is not None else "completo", grace_days=grace_days)
    with session_scope(services.sessions) as session:
        total = session.scalar(select(func.count(Blob.id))) or 0
    progress.stage("Verificando objetos", min(total, sample) if sample is not None else total)
    for blobs in _blob_batches(services, sample):
        _check_blobs(services, blobs, report, progress)
        if sample is not None:  # the page derivatives of the sampled originals
            with session_scope(services.sessions) as session:
                doc_ids = list(session.scalars(select(Document.id).where(
                    Document.original_blob_id.in_([b.id for b in blobs]))))
            if doc_ids:
                _check_pages(services, report, NoProgress(), doc_ids, fill_sums)
    if sample is not None:
        return report
    with session_scope(services.sessions) as session:
        pages = session.scalar(select(func.count(Page.id)).where(_has_derivative())) or 0
    progress.stage("Verificando derivados", pages)
    _check_pages(services, report, progress, None, fill_sums)
    _check_orphans(services, report, progress, clean, utcnow(), list_chunk)
    return report


# -- audit chain ----------------------------------------------------------------


def _stream_events(services: Services, progress: Progress) -> Iterator[AuditEvent]:
    for events in _in_id_order(services, AuditEvent):
        for ev in events:
            yield ev
            progress.advance()


def check_audit(services: Services, progress: Progress | None = None, *,
                anchor: str | None = None) -> AuditReport:
    """Verify hashes, links and seals, then the anchors; the first problem names the first
    event that disagrees. ``anchor`` ("check", "programada"): anchor the head if all agree."""
    progress = progress or NoProgress()
    with session_scope(services.sessions) as session:
        total = session.scalar(select(func.count(AuditEvent.id))) or 0
        key = services.audit_key(session)
    progress.stage("Verificando auditoría", total)
    report = AuditReport(events=total, sealed_since=key.since,
                         key_warning=audit_key.exposure(services.settings.home / audit_key.FILE_NAME))
    report.problems = audit.verify_chain(_stream_events(services, progress), key)
    anchors = audit_anchor.check(services, key)
    report.anchors, report.invalid_anchors = anchors.anchors, anchors.invalid
    report.problems = sorted(report.problems + anchors.problems, key=lambda p: p.event_id)
    if report.ok and anchor is not None:
        report.anchored = audit_anchor.write(services, key, anchor)
    if report.problems:
        with session_scope(services.sessions) as session:
            ev = session.get(AuditEvent, report.problems[0].event_id)
            if ev is not None:
                session.expunge(ev)
            report.first_bad = ev
    return report


def record_result(services: Services, report: FixityReport, *, actor: str = "sistema",
                  audit_report: AuditReport | None = None, scheduled: bool = False) -> None:
    """Append ``integridad.verificar`` with the counts to the audit trail."""
    details = report.counts()
    details["programada"] = scheduled
    if audit_report is not None:
        details["auditoria_eventos"] = audit_report.events
        details["auditoria_problemas"] = audit_report.problem_count
    with session_scope(services.sessions) as session:
        audit.record(session, actor, AUDIT_ACTION, "archivo", "objetos", details)


# -- nightly schedule -------------------------------------------------------------


def _last_scheduled(session: Session) -> dt.datetime | None:
    rows = session.execute(select(AuditEvent.at, AuditEvent.details)
                           .where(AuditEvent.action == AUDIT_ACTION)
                           .order_by(AuditEvent.id.desc()).limit(20))
    for at, details in rows:
        if (details or {}).get("programada"):
            return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
    return None


def nightly_due(services: Services, now: dt.datetime | None = None) -> bool:
    """Night in Asunción and no scheduled check in the last ``MIN_INTERVAL``."""
    now = now or utcnow()
    if local_datetime(now).hour not in NIGHT_HOURS:
        return False
    with session_scope(services.sessions) as session:
        last = _last_scheduled(session)
    return last is None or now - last >= MIN_INTERVAL


def _lock_key(services: Services) -> str:
    return f"{services.huey.name}.lock.{TASK_NAME}"


def _acquire(services: Services) -> bool:
    """A queue-storage lock shared by all workers; one left by a killed worker expires."""
    huey, key = services.huey, _lock_key(services)
    now = time.time()
    if huey.put_if_empty(key, str(now)):
        return True
    try:
        held_since = float(huey.get(key, peek=True) or 0)
    except (TypeError, ValueError):
        held_since = 0.0
    if now - held_since > LOCK_STALE.total_seconds():
        huey.delete(key)
        return bool(huey.put_if_empty(key, str(now)))
    return False


def run_nightly(services: Services, *, sample: int = NIGHTLY_SAMPLE,
                now: dt.datetime | None = None, force: bool = False) -> FixityReport | None:
    """The scheduled check: one sample plus the audit chain, recorded in the audit trail."""
    if not _acquire(services):
        return None
    try:
        if not force and not nightly_due(services, now):
            return None
        report = check_objects(services, sample=sample)
        chain = check_audit(services, anchor="programada")
        record_result(services, report, audit_report=chain, scheduled=True)
        if chain.anchored is not None and chain.anchored.failures:
            log.error("integridad: el ancla de la auditoría no se guardó en todos los lugares: %s",
                      "; ".join(chain.anchored.failures))
        if report.ok and chain.ok:
            log.info("integridad: %d objeto(s) verificado(s), sin problemas", report.hashed)
        else:
            log.error("integridad: %d problema(s) en objetos, %d en la auditoría; "
                      "ejecute «archivo check»", report.problems, chain.problem_count)
        return report
    finally:
        services.huey.delete(_lock_key(services))


def register_fixity_task(services: Services) -> Any:
    """Register ``archivo.integridad`` (once) and ask for it from the sweeper at night."""
    huey = services.huey
    existing = getattr(huey, "_archivo_fixity_task", None)
    if existing is not None:
        return existing

    @huey.task(name=TASK_NAME)
    def fixity() -> int:
        report = run_nightly(services)
        return -1 if report is None else report.problems

    state = {"asked": 0.0}

    def request_if_due(_event: Sweep) -> None:
        if time.monotonic() - state["asked"] < REQUEST_EVERY_S and state["asked"]:
            return
        if nightly_due(services):
            state["asked"] = time.monotonic()
            fixity()

    services.signals.connect(Sweep, request_if_due)
    huey._archivo_fixity_task = fixity  # type: ignore[attr-defined]
    return fixity

