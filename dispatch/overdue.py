"""Overdue dispatches: sent, not received, and past their expected delivery day.

``today`` is always a parameter (default: today in Paraguay) so the dashboard,
the CLI and the tests agree on one clock. A dispatch is due *on* its expected
day and overdue from the next day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archive.services import Services

from .clock import local_today
from .permissions import Actor
from .queries import list_dispatches
from .views import DispatchView
from .workflow import days_late


@dataclass(frozen=True)
class Overdue:
    dispatch: DispatchView
    days_late: int


def overdue_dispatches(services: Services, actor: Actor, *,
                       today: dt.date | None = None) -> list[Overdue]:
    """Most late first; a regional user sees only its unit's."""
    day = today or local_today()
    found = list_dispatches(services, actor, overdue_only=True, today=day, limit=10_000)
    rows = [Overdue(d, days_late(d.state, d.expected_delivery, day)) for d in found]
    return sorted(rows, key=lambda o: (-o.days_late, o.dispatch.number))
