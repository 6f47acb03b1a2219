"""The dashboard (tablero): how the archive is doing today, on one page.

Who sees it (decided): ``archivista``, ``despacho`` and ``admin``. Archivists
watch the ingest side (queue, review backlog, errors); dispatch clerks watch
overdue dispatches and open discrepancies; both benefit from seeing the
other half. ``consulta`` users only search and read documents, and
``regional`` users see only their own unit's dispatches: the archive-wide
numbers are none of their business, so both are refused (403) and land on
their own first page instead (``web.nav.HOME``).

The archive numbers come from :func:`archive.dashboard_stats.collect`; the
dispatch numbers from the ``dispatch`` package (``overdue_dispatches``,
``open_discrepancies``). If that package cannot answer (not installed, its
tables missing), the dispatch panel says "no disponible" rather than
showing a made-up zero.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template

from archive.dashboard_stats import DashboardStats, collect
from archive.localtime import fmt_date, fmt_datetime
from archive.enums import Role
from archive.services import Services

from . import services_of
from .security import current_user, requires

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)

LISTED = 5  # overdue dispatches / discrepancies shown by name; the rest are counted


@dataclass
class DispatchPanel:
    available: bool
    overdue_count: int = 0
    overdue: list[Any] = field(default_factory=list)  # dispatch.Overdue, most late first
    discrepancy_count: int = 0
    discrepancies: list[Any] = field(default_factory=list)  # dispatch.Discrepancy, oldest first


def dispatch_panel(services: Services, username: str, role: str,
                   regional_unit_id: int | None, today: dt.date | None = None) -> DispatchPanel:
    """Overdue dispatches and open discrepancies as the dispatch package computes them."""
    try:
        from dispatch import Actor, open_discrepancies, overdue_dispatches

        actor = Actor(username, Role(role), regional_unit_id)
        overdue = overdue_dispatches(services, actor, today=today)
        open_items = open_discrepancies(services, actor)
    except Exception:  # noqa: BLE001 - one panel failing must not take the page down
        log.warning("el tablero no pudo leer los despachos", exc_info=True)
        return DispatchPanel(available=False)
    return DispatchPanel(True, len(overdue), overdue[:LISTED], len(open_items),
                         open_items[:LISTED])


@bp.get("/tablero")
@requires(Role.ARCHIVISTA, Role.DESPACHO)
def home() -> str:
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    stats: DashboardStats = collect(services)
    panel = dispatch_panel(services, user.username, user.role, user.regional_unit_id)
    return render_template("tablero.html", stats=stats, despachos=panel,
                           fecha=fmt_datetime(stats.computed_at), fmt_date=fmt_date)

