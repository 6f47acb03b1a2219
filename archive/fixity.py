"""Fixity: prove that every stored object is the one the database recorded.

Small ``_check_*`` functions each look at one thing and add Spanish lines to a
:class:`FixityReport`; :func:`check_objects` and :func:`check_audit` run them.

* Full run: list the whole store once, re-hash every ``Blob`` (originals and
  searchable PDFs), confirm every page derivative named by a ``Page`` row
  exists, and report stored keys nobody references (orphans). With
  ``clean=True`` orphans older than the grace period are deleted.
* Sample run (``sample=N``): re-hash the N least recently verified blobs and
  check the page derivatives of their documents; no listing, no orphans.

Every blob that hashes correctly gets ``verified_at`` set, so successive
samples rotate through the whole archive. Page images, thumbnails and word
boxes have no recorded hash: for them the check is "the object exists".

Nightly: :func:`register_fixity_task` adds the queue task
``archivo.integridad`` and hooks it to the worker's sweeper (``barrido``), which
asks for it during the night when no scheduled check ran in the last hours.
The outcome is recorded in the audit trail as ``integridad.verificar``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import audit
from .db import session_scope
from .enums import DocumentStatus
from .errors import ObjectNotFound
from .localtime import local_datetime
from .models import AuditEvent, Blob, Document, Page, utcnow
from .services import Services
from .storage import CHUNK_SIZE, ObjectInfo, ObjectStore

log = logging.getLogger(__name__)

DEFAULT_GRACE_DAYS = 7
BATCH = 500
SHOWN = 20  # problem lines printed per kind; the counts are always complete
AUDIT_ACTION = "integridad.verificar"

# Nightly schedule (see register_fixity_task).
TASK_NAME = "archivo.integridad"
NIGHTLY_SAMPLE = 500  # blobs re-hashed per night
NIGHT_HOURS = range(2, 6)  # Asunción local time: starts between 02:00 and 05:59
MIN_INTERVAL = dt.timedelta(hours=20)  # at most one scheduled check per night
REQUEST_EVERY_S = 15 * 60  # a worker asks the queue at most this often
LOCK_STALE = dt.timedelta(hours=12)  # a lock left by a killed worker expires


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
    hashed_bytes: int = 0
    derivatives: int = 0  # page derivatives confirmed present
    skipped: int = 0  # searchable PDFs being rebuilt by a worker at this moment
    missing: list[str] = field(default_factory=list)  # keys named by rows, not stored
    corrupted: list[str] = field(default_factory=list)  # stored, but other bytes
    orphans: list[Any] = field(default_factory=list)  # ObjectInfo older than the grace period
    young_orphans: list[ObjectInfo] = field(default_factory=list)  # kept, not a problem yet
    removed: list[str] = field(default_factory=list)  # orphans deleted by clean=True
    lines: dict[str, list[str]] = field(default_factory=dict)  # kind -> Spanish lines

    def add(self, kind: str, item: Any, line: str) -> None:
        """Record ``item`` (a key, or an ObjectInfo for orphans) and its Spanish line."""
        getattr(self, kind).append(item)
        self.lines.setdefault(kind, []).append(line)

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

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def counts(self) -> dict[str, Any]:
        """For the audit event."""
        return {"modo": self.mode, "verificados": self.hashed, "bytes": self.hashed_bytes,
                "derivados": self.derivatives, "omitidos": self.skipped,
                "faltantes": len(self.missing), "corruptos": len(self.corrupted),
                "huerfanos": len(self.orphans), "huerfanos_recientes": len(self.young_orphans),
                "eliminados": len(self.removed), "problemas": self.problems}


@dataclass
class AuditReport:
    events: int = 0
    problems: list[audit.ChainProblem] = field(default_factory=list)
    first_bad: AuditEvent | None = None  # detached copy of the first bad event, if it exists

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.ok:
            return []
        first = self.problems[0]
        out = [f"Primer evento con problemas: {first.event_id}"
               + (f" ({self.first_bad.action}, {self.first_bad.object_type} "
                  f"{self.first_bad.object_id}, {local_datetime(self.first_bad.at):%Y-%m-%d %H:%M})"
                  if self.first_bad is not None else "")]
        out += [p.message for p in self.problems]
        return out


# -- object checks ------------------------------------------------------------


def _hash_object(store: ObjectStore, key: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with store.open(key) as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _owners(session: Session, blob_ids: list[int]) -> dict[int, tuple[str, bool]]:
    """blob id -> ("original de ARC-...", being processed?) for the report."""
    out: dict[int, tuple[str, bool]] = {}
    rows = session.execute(select(Document.archive_number, Document.status,
                                  Document.original_blob_id, Document.pdf_blob_id)
                           .where(or_(Document.original_blob_id.in_(blob_ids),
                                      Document.pdf_blob_id.in_(blob_ids))))
    for number, status, original_id, pdf_id in rows:
        busy = status is DocumentStatus.PROCESANDO
        if original_id in blob_ids:
            out[original_id] = (f"original de {number}", False)  # never rewritten
        if pdf_id in blob_ids:
            out[pdf_id] = (f"PDF buscable de {number}", busy)  # rebuilt while processing
    return out


def _check_blob(store: ObjectStore, blob: Blob, owner: str, report: FixityReport,
                listed: dict[str, ObjectInfo] | None) -> bool:
    """Re-hash one blob; True if its bytes are the recorded ones."""
    what = f"{owner or 'objeto sin documento'} ({blob.storage_key})"
    # Popped: whatever stays in ``listed`` at the end is unreferenced. A key not listed is
    # asked again (it may have been written after the listing).
    if listed is not None and listed.pop(blob.storage_key, None) is None and \
            store._stat_or_none(blob.storage_key) is None:
        report.add("missing", blob.storage_key, f"Falta el {what}.")
        return False
    try:
        sha256, size = _hash_object(store, blob.storage_key)
    except ObjectNotFound:
        report.add("missing", blob.storage_key, f"Falta el {what}.")
        return False
    report.hashed += 1
    report.hashed_bytes += size
    if sha256 != blob.sha256 or size != blob.size:
        report.add("corrupted", blob.storage_key,
                   f"Dañado: el {what} no coincide con su suma SHA-256 registrada "
                   f"(esperada {blob.sha256[:12]}…, calculada {sha256[:12]}…; "
                   f"{size} de {blob.size} bytes).")
        return False
    return True


def _check_blobs(services: Services, blobs: list[Blob], report: FixityReport,
                 progress: Progress, listed: dict[str, ObjectInfo] | None) -> None:
    """Re-hash ``blobs`` (rows of one batch); stamp ``verified_at`` on the good ones."""
    with session_scope(services.sessions) as session:
        owners = _owners(session, [b.id for b in blobs])
    good: list[int] = []
    for blob in blobs:
        owner, busy = owners.get(blob.id, ("", False))
        if busy:  # a worker is rewriting it right now; the next check sees the result
            report.skipped += 1
            if listed is not None:
                listed.pop(blob.storage_key, None)  # referenced all the same: not an orphan
        elif _check_blob(services.store, blob, owner, report, listed):
            good.append(blob.id)
        progress.advance()
    if good:
        with session_scope(services.sessions) as session:
            now = utcnow()
            for row in session.scalars(select(Blob).where(Blob.id.in_(good))):
                row.verified_at = now


_PAGE_KINDS = (("image_key", "imagen"), ("thumb_key", "miniatura"), ("words_key", "palabras"))


def _check_page_keys(store: ObjectStore, number: str, page: Any, report: FixityReport,
                     listed: dict[str, ObjectInfo] | None) -> None:
    for column, label in _PAGE_KINDS:
        key = getattr(page, column)
        if not key:
            continue
        listed_info = listed.pop(key, None) if listed is not None else None
        present = listed_info is not None or store._stat_or_none(key) is not None
        if present:
            report.derivatives += 1
        else:
            report.add("missing", key, f"Falta la {label} de la página {page.number} de "
                                       f"{number} ({key}).")


def _page_rows(session: Session, after: int, doc_ids: list[int] | None) -> list[Any]:
    query = (select(Page.id, Page.number, Page.image_key, Page.thumb_key, Page.words_key,
                    Document.archive_number)
             .join(Document, Document.id == Page.document_id)
             .where(or_(Page.image_key.is_not(None), Page.thumb_key.is_not(None),
                        Page.words_key.is_not(None))))
    if doc_ids is not None:
        query = query.where(Page.document_id.in_(doc_ids))
    return list(session.execute(query.where(Page.id > after).order_by(Page.id).limit(BATCH)))


def _check_pages(services: Services, report: FixityReport, progress: Progress,
                 listed: dict[str, ObjectInfo] | None, doc_ids: list[int] | None = None) -> None:
    """Every derivative key named by a page row exists (found keys leave ``listed``)."""
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            rows = _page_rows(session, after, doc_ids)
        if not rows:
            return
        after = rows[-1].id
        for row in rows:
            _check_page_keys(services.store, row.archive_number, row, report, listed)
            progress.advance()


def _list_store(store: ObjectStore, progress: Progress) -> dict[str, ObjectInfo]:
    progress.stage("Listando objetos", None)
    listed: dict[str, ObjectInfo] = {}
    for info in store.iterate():
        listed[info.key] = info
        progress.advance()
    return listed


def _is_referenced(session: Session, key: str) -> bool:
    """Asked again right before deleting: a row may have appeared since the listing."""
    if session.scalar(select(Blob.id).where(Blob.storage_key == key).limit(1)) is not None:
        return True
    return session.scalar(select(Page.id).where(or_(Page.image_key == key, Page.thumb_key == key,
                                                    Page.words_key == key)).limit(1)) is not None


def _check_orphans(services: Services, leftovers: Iterable[ObjectInfo], report: FixityReport,
                   clean: bool, now: dt.datetime) -> None:
    edge = now - dt.timedelta(days=report.grace_days)
    for info in sorted(leftovers, key=lambda i: i.key):
        age_days = (now - info.modified).days
        if info.modified > edge:
            report.young_orphans.append(info)
            report.lines.setdefault("young_orphans", []).append(
                f"{info.key} ({info.size} bytes, {age_days} día(s)): reciente, se conserva.")
            continue
        if clean:
            with session_scope(services.sessions) as session:
                if _is_referenced(session, info.key):  # a row appeared since the listing
                    continue
            services.store.delete(info.key)
            report.removed.append(info.key)
        report.add("orphans", info, f"Huérfano: {info.key} ({info.size} bytes, {age_days} "
                                    f"día(s)) no pertenece a ningún documento"
                                    + (" (eliminado)." if clean else "."))


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
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            blobs = list(session.scalars(select(Blob).where(Blob.id > after)
                                         .order_by(Blob.id).limit(BATCH)))
            session.expunge_all()
        if not blobs:
            return
        after = blobs[-1].id
        yield blobs


def check_objects(services: Services, *, sample: int | None = None, clean: bool = False,
                  grace_days: int = DEFAULT_GRACE_DAYS,
                  progress: Progress | None = None) -> FixityReport:
    """Re-hash blobs, confirm derivatives, find orphans (full run) and optionally delete them."""
    progress = progress or NoProgress()
    report = FixityReport("muestra" if sample is not None else "completo", grace_days=grace_days)
    store = services.store
    listed = None if sample is not None else _list_store(store, progress)
    report.listed = len(listed or {})
    with session_scope(services.sessions) as session:
        total = session.scalar(select(func.count(Blob.id))) or 0
    progress.stage("Verificando objetos", min(total, sample) if sample is not None else total)
    for blobs in _blob_batches(services, sample):
        _check_blobs(services, blobs, report, progress, listed)
        if sample is not None:  # the page derivatives of the sampled originals
            with session_scope(services.sessions) as session:
                doc_ids = list(session.scalars(select(Document.id).where(
                    Document.original_blob_id.in_([b.id for b in blobs]))))
            if doc_ids:
                _check_pages(services, report, NoProgress(), None, doc_ids)
    if sample is not None:
        return report
    with session_scope(services.sessions) as session:
        pages = session.scalar(select(func.count(Page.id)).where(or_(
            Page.image_key.is_not(None), Page.thumb_key.is_not(None),
            Page.words_key.is_not(None)))) or 0
    progress.stage("Verificando derivados", pages)
    _check_pages(services, report, progress, listed)
    assert listed is not None
    _check_orphans(services, listed.values(), report, clean, utcnow())  # nobody claimed them
    return report


# -- audit chain ----------------------------------------------------------------


def _stream_events(services: Services, progress: Progress) -> Iterator[AuditEvent]:
    after = 0
    while True:
        with session_scope(services.sessions) as session:
            events = list(session.scalars(select(AuditEvent).where(AuditEvent.id > after)
                                          .order_by(AuditEvent.id).limit(BATCH)))
            session.expunge_all()
        if not events:
            return
        after = events[-1].id
        for ev in events:
            yield ev
            progress.advance()


def check_audit(services: Services, progress: Progress | None = None) -> AuditReport:
    """Verify the hash chain; the first problem names the first edited or missing event."""
    progress = progress or NoProgress()
    with session_scope(services.sessions) as session:
        total = session.scalar(select(func.count(AuditEvent.id))) or 0
    progress.stage("Verificando auditoría", total)
    report = AuditReport(events=total)
    report.problems = audit.verify_chain(_stream_events(services, progress))
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
        details["auditoria_problemas"] = len(audit_report.problems)
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
        chain = check_audit(services)
        record_result(services, report, audit_report=chain, scheduled=True)
        if report.ok and chain.ok:
            log.info("integridad: %d objeto(s) verificado(s), sin problemas", report.hashed)
        else:
            log.error("integridad: %d problema(s) en objetos, %d en la auditoría; "
                      "ejecute «archivo check»", report.problems, len(chain.problems))
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

    def request_if_due() -> None:
        if time.monotonic() - state["asked"] < REQUEST_EVERY_S and state["asked"]:
            return
        if nightly_due(services):
            state["asked"] = time.monotonic()
            fixity()

    services.on("barrido", request_if_due)
    huey._archivo_fixity_task = fixity  # type: ignore[attr-defined]
    return fixity

