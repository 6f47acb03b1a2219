"""Monthly report per regional unit: sent, received, transit days, overdue, discrepancies.

Dispatches are counted in the month they were *sent* (Paraguay's calendar),
so a month's row follows the same packages to the end: how many arrived,
how long they took, which are overdue, which came with missing or damaged
items. Outbound dispatches and return trips are separate rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.db import read_scope
from archive.enums import Role
from archive.services import Services

from .clock import local_date, local_midnight, local_today
from .enums import ItemOutcome
from .models import Dispatch
from .permissions import READERS, Actor, require
from .workflow import RECEIVED_STATES, days_late

OUTBOUND = "envío"
RETURN = "devolución"

CSV_HEADER = ["mes", "codigo_unidad", "unidad", "sentido", "enviados", "recibidos",
              "promedio_dias_transito", "vencidos", "entregados_tarde", "items_faltantes",
              "items_danados", "observaciones_sin_resolver"]


@dataclass
class ReportRow:
    month: str  # "2026-03"
    unit_code: str
    unit_name: str
    direction: str  # OUTBOUND or RETURN
    sent: int = 0
    received: int = 0
    overdue: int = 0  # still on the road after the expected day, as of the report's day
    late: int = 0  # received after the expected day
    missing: int = 0
    damaged: int = 0
    unresolved: int = 0
    transit_days: list[int] = field(default_factory=list, repr=False)

    @property
    def avg_transit_days(self) -> float | None:
        if not self.transit_days:
            return None
        return round(sum(self.transit_days) / len(self.transit_days), 1)

    @property
    def avg_transit_text(self) -> str:
        """The average as people write it (decimal comma), the same on the page and in the CSV."""
        return decimal_text(self.avg_transit_days)


def month_bounds(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """First day of ``first``'s month, first day after ``last``'s month."""
    start = first.replace(day=1)
    end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return start, end


def monthly_report(services: Services, actor: Actor, *, first: dt.date, last: dt.date,
                   today: dt.date | None = None) -> list[ReportRow]:
    """Rows for the months from ``first`` to ``last`` (any day of each), ordered by month
    and unit; a regional user gets only its unit."""
    require(actor.role in READERS or actor.role is Role.REGIONAL, "ver el informe de despachos")
    day = today or local_today()
    start, end = month_bounds(first, last)
    rows: dict[tuple[str, str, str], ReportRow] = {}
    with read_scope(services.sessions) as session:
        query = (select(Dispatch).where(Dispatch.sent_at >= local_midnight(start),
                                        Dispatch.sent_at < local_midnight(end))
                 .options(selectinload(Dispatch.regional_unit), selectinload(Dispatch.items)))
        if actor.role is Role.REGIONAL:
            query = query.where(Dispatch.regional_unit_id == (actor.regional_unit_id or -1))
        for d in session.scalars(query):
            assert d.sent_at is not None
            sent = local_date(d.sent_at)
            direction = RETURN if d.is_return else OUTBOUND
            key = (f"{sent:%Y-%m}", d.regional_unit.code, direction)
            row = rows.get(key) or rows.setdefault(
                key, ReportRow(key[0], d.regional_unit.code, d.regional_unit.name, direction))
            _count(row, d, sent, day)
    return [rows[k] for k in sorted(rows)]


def _count(row: ReportRow, d: Dispatch, sent: dt.date, today: dt.date) -> None:
    row.sent += 1
    row.overdue += days_late(d.state, d.expected_delivery, today) > 0
    if d.state in RECEIVED_STATES and d.received_at is not None:
        row.received += 1
        arrived = local_date(d.received_at)
        row.transit_days.append((arrived - sent).days)
        row.late += d.expected_delivery is not None and arrived > d.expected_delivery
    for item in d.items:
        row.missing += item.outcome is ItemOutcome.FALTANTE
        row.damaged += item.outcome is ItemOutcome.DANADO
        row.unresolved += item.is_discrepancy and not item.resolved


def decimal_text(value: float | None) -> str:
    """Decimal comma: the spreadsheet of a Paraguayan office reads "2,5" as a number."""
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def write_csv(rows: list[ReportRow], out: TextIO) -> None:
    """Semicolon-separated (the regional setting of Spanish spreadsheets), one header row."""
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r.month, r.unit_code, r.unit_name, r.direction, r.sent, r.received,
                         decimal_text(r.avg_transit_days), r.overdue, r.late, r.missing, r.damaged,
                         r.unresolved])


def csv_bytes(rows: list[ReportRow]) -> bytes:
    """The CSV file as Excel in es-PY opens it: UTF-8 with a byte order mark (without it
    Excel reads «envío» as «envÃ­o»), semicolons and decimal commas."""
    out = io.StringIO()
    write_csv(rows, out)
    return out.getvalue().encode("utf-8-sig")
