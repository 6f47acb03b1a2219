"""The numbers of the dashboard (tablero), computed from the database and the queue.

Kept out of the web layer so they are tested without a browser and could be
printed by the CLI. Only archive-side facts live here; the dispatch numbers
(overdue dispatches, open discrepancies) come from the ``dispatch`` package,
which ``archive`` must not import, and are added by the web view.

Where each number comes from, and why:

* documents by status: the ``documents`` table (every status listed, zeros included,
  so the table on the page never changes shape);
* pages processed today: the ``documento.procesar`` audit events since local
  midnight (Paraguay). ``Document.processed_at`` is never written by the
  pipeline, and the audit trail is the one place that records each run with
  its page count, so a re-processed document counts again (its pages were
  read again);
* queue length: huey's ``pending_count()`` (SQLite and Redis queues alike);
  ``None`` when the queue does not answer, so the page says so instead of
  showing a false zero;
* review backlog: documents in ``revisar``, with the oldest (by reception);
* errors in the last 7 days: documents now in ``error`` whose last change is
  within 7 days, not counting those a reviewer rejected on purpose
  (``error_code == "rechazado"``): those are decisions, not faults to fix;
* overdue loans: physical folders lent (``archive.physical``) and not back
  by their due date, on Paraguay's calendar, most late first.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from .db import read_scope
from .localtime import aware, local_date, local_midnight
from .enums import DocumentStatus
from .models import AuditEvent, Document, utcnow
from .physical.loans import overdue_loans
from .services import Services

log = logging.getLogger(__name__)

ERROR_WINDOW = dt.timedelta(days=7)
RECENT_ERRORS = 5
OVERDUE_LOANS_LISTED = 5
REJECTED_BY_REVIEW = "rechazado"  # archive.editing.REJECTED; not imported to keep this module light


def today_start(now: dt.datetime) -> dt.datetime:
    """The UTC instant when ``now``'s calendar day began in Paraguay."""
    return local_midnight(local_date(now))


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return aware(moment) if moment is not None else None


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ReviewBacklog:
    count: int
    oldest_id: int | None = None
    oldest_number: str | None = None
    oldest_received_at: dt.datetime | None = None
    oldest_days: int | None = None  # whole days waiting


@dataclass(frozen=True)
class RecentError:
    document_id: int
    archive_number: str
    at: dt.datetime | None
    message: str


@dataclass(frozen=True)
class OverdueLoan:
    folder_code: str
    nis: str | None
    borrower: str
    due_date: dt.date
    days_late: int


@dataclass(frozen=True)
class DashboardStats:
    computed_at: dt.datetime
    by_status: list[StatusCount]
    total_documents: int
    pages_today: int
    documents_processed_today: int
    queue_pending: int | None  # None: the queue did not answer
    index_queue_pending: int | None  # the index writer's own queue (None: no answer)
    review: ReviewBacklog
    errors_last_7_days: int
    recent_errors: list[RecentError] = field(default_factory=list)
    overdue_loans: int = 0
    overdue_loan_list: list[OverdueLoan] = field(default_factory=list)  # most late first

    def count(self, status: DocumentStatus | str) -> int:
        return next((s.count for s in self.by_status if s.status == str(status)), 0)


def queue_length(services: Services, *, index: bool = False) -> int | None:
    """Messages waiting on the document queue (or on the index writer's queue)."""
    try:
        return int((services.index_huey if index else services.huey).pending_count())
    except Exception:  # noqa: BLE001 - the dashboard reports "no answer", never a 500
        log.warning("la cola de tareas no responde", exc_info=True)
        return None


def collect(services: Services, *, now: dt.datetime | None = None) -> DashboardStats:
    """Every archive-side number of the dashboard, read in one read-only transaction."""
    now = now or utcnow()
    today = today_start(now)
    since = now - ERROR_WINDOW
    with read_scope(services.sessions) as session:
        counts = dict(session.execute(
            select(Document.status, func.count()).group_by(Document.status)).all())
        by_status = [StatusCount(s.value, s.label, int(counts.get(s, 0))) for s in DocumentStatus]

        runs = session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "documento.procesar", AuditEvent.at >= today)).all()
        pages_today = sum(_pages(d) for d in runs)

        review_count = int(session.scalar(select(func.count()).select_from(Document).where(
            Document.status == DocumentStatus.REVISAR)) or 0)
        oldest = session.execute(
            select(Document.id, Document.archive_number, Document.received_at)
            .where(Document.status == DocumentStatus.REVISAR)
            .order_by(Document.received_at, Document.id).limit(1)).first()
        review = ReviewBacklog(review_count)
        if oldest is not None:
            received = _aware(oldest[2])
            days = (now - received).days if received else None
            review = ReviewBacklog(review_count, oldest[0], oldest[1], received, days)

        failed = (Document.status == DocumentStatus.ERROR, Document.updated_at >= since,
                  or_(Document.error_code.is_(None), Document.error_code != REJECTED_BY_REVIEW))
        errors = int(session.scalar(select(func.count()).select_from(Document)
                                    .where(*failed)) or 0)
        recent = [RecentError(i, n, _aware(at), m or "")
                  for i, n, at, m in session.execute(
                      select(Document.id, Document.archive_number, Document.updated_at,
                             Document.error_message)
                      .where(*failed).order_by(Document.updated_at.desc(), Document.id.desc())
                      .limit(RECENT_ERRORS))]

        day = local_date(now)
        late = overdue_loans(session, today=day)
        late_list = [OverdueLoan(ln.folder.code, ln.folder.nis, ln.borrower, ln.due_date,
                                 (day - ln.due_date).days)
                     for ln in late[:OVERDUE_LOANS_LISTED]]
    return DashboardStats(
        computed_at=now, by_status=by_status, total_documents=sum(s.count for s in by_status),
        pages_today=pages_today, documents_processed_today=len(runs),
        queue_pending=queue_length(services),
        index_queue_pending=queue_length(services, index=True), review=review, errors_last_7_days=errors,
        recent_errors=recent, overdue_loans=len(late), overdue_loan_list=late_list)


def _pages(details: object) -> int:
    value = details.get("paginas", 0) if isinstance(details, dict) else 0
    return value if isinstance(value, int) and value > 0 else 0
