"""Overdue dispatches with a controllable clock; transit days per destination."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.errors import ArchivoError
from dispatch import (DEFAULT_TRANSIT_DAYS, add_text, create_dispatch, days_late,
                      list_dispatches, list_transit_days, overdue_dispatches, prepare, receive,
                      send, set_transit_days)
from dispatch.enums import DispatchState
from tests.dispatch_helpers import (ADMIN, CONSULTA, COURIER, DESPACHO, at,
                                    dispatch_services, regional)


def _send(svc, unit: str, day: float, expected: dt.date | None = None):  # type: ignore[no-untyped-def]
    d = create_dispatch(svc, DESPACHO, unit, now=at(day))
    add_text(svc, DESPACHO, d.id, "antecedentes", sheets=3, now=at(day))
    prepare(svc, DESPACHO, d.id, now=at(day))
    return send(svc, DESPACHO, d.id, courier=COURIER, guide_number=f"G{day}",
                expected_delivery=expected, now=at(day))


def test_days_late_is_a_pure_rule() -> None:
    due = dt.date(2026, 3, 5)
    assert days_late(DispatchState.ENVIADO, due, dt.date(2026, 3, 5)) == 0  # due today: not late
    assert days_late(DispatchState.ENVIADO, due, dt.date(2026, 3, 8)) == 3
    assert days_late(DispatchState.RECIBIDO, due, dt.date(2026, 3, 8)) == 0
    assert days_late(DispatchState.ENVIADO, None, dt.date(2026, 3, 8)) == 0


def test_overdue_with_a_controllable_clock(tmp_path: Path) -> None:
    svc = dispatch_services(tmp_path)
    try:
        assert {t.unit_code: t.days for t in list_transit_days(svc)}["SUR"] == DEFAULT_TRANSIT_DAYS
        set_transit_days(svc, ADMIN, "SUR", 2)
        with pytest.raises(ArchivoError, match="entre 0 y 365"):
            set_transit_days(svc, ADMIN, "SUR", 400)
        with pytest.raises(ArchivoError, match="permiso"):
            set_transit_days(svc, CONSULTA, "SUR", 1)
        sur = _send(svc, "SUR", 0)  # 02/03 + 2 days -> due 04/03
        nor = _send(svc, "NOR", 0)  # default 3 days -> due 05/03
        est = _send(svc, "EST", 1, expected=dt.date(2026, 3, 10))  # agreed date
        arrived = _send(svc, "CEN", 0)
        receive(svc, ADMIN, arrived.id, now=at(9))
        assert (sur.expected_delivery, nor.expected_delivery, est.expected_delivery) == (
            dt.date(2026, 3, 4), dt.date(2026, 3, 5), dt.date(2026, 3, 10))
        set_transit_days(svc, ADMIN, "SUR", 10)  # later changes move no sent dispatch
        assert list_dispatches(svc, DESPACHO, state="enviado", destination="SUR")[0] \
            .expected_delivery == dt.date(2026, 3, 4)

        assert overdue_dispatches(svc, DESPACHO, today=dt.date(2026, 3, 4)) == []
        late = overdue_dispatches(svc, DESPACHO, today=dt.date(2026, 3, 6))
        assert [(o.dispatch.number, o.days_late) for o in late] == [(sur.number, 2),
                                                                    (nor.number, 1)]
        late = overdue_dispatches(svc, DESPACHO, today=dt.date(2026, 3, 12))
        assert [(o.dispatch.regional_unit_code, o.days_late) for o in late] == [
            ("SUR", 8), ("NOR", 7), ("EST", 2)]
        assert [o.dispatch.number for o in
                overdue_dispatches(svc, regional(svc, "NOR"), today=dt.date(2026, 3, 12))] == [
            nor.number]
        assert {d.number for d in list_dispatches(svc, DESPACHO, overdue_only=True,
                                                  today=dt.date(2026, 3, 6))} == {
            sur.number, nor.number}
        receive(svc, regional(svc, "SUR"), sur.id, now=at(11))
        assert [o.dispatch.regional_unit_code for o in
                overdue_dispatches(svc, DESPACHO, today=dt.date(2026, 3, 12))] == ["NOR", "EST"]
    finally:
        svc.dispose()
