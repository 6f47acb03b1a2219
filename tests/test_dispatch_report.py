"""Monthly report per regional unit and its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from dispatch import (ItemOutcome, ItemReceipt, add_document, add_text, create_dispatch,
                      create_return, monthly_report, prepare, receive, resolve_item, send,
                      write_csv)
from tests.dispatch_helpers import (ADMIN, COURIER, DESPACHO, add_doc, at, dispatch_services,
                                    regional)


def _sent(svc, unit: str, day: float, what: str = "antecedentes"):  # type: ignore[no-untyped-def]
    d = create_dispatch(svc, DESPACHO, unit, now=at(day))
    add_text(svc, DESPACHO, d.id, what, sheets=2, now=at(day))
    prepare(svc, DESPACHO, d.id, now=at(day))
    return send(svc, DESPACHO, d.id, courier=COURIER, guide_number="G", now=at(day))


def test_monthly_report_and_csv(tmp_path: Path) -> None:
    svc = dispatch_services(tmp_path)
    try:
        sur = regional(svc, "SUR")
        a = _sent(svc, "SUR", 0)  # 02/03, due 05/03
        receive(svc, sur, a.id, [ItemReceipt("antecedentes", ItemOutcome.DANADO, "roto")],
                now=at(2))
        b = _sent(svc, "SUR", 1)  # 03/03, due 06/03, arrives 08/03: late
        receive(svc, sur, b.id, now=at(6))
        _sent(svc, "NOR", 3)  # 05/03, due 08/03, still on the road
        create_dispatch(svc, DESPACHO, "SUR", now=at(3))  # never sent: not counted
        doc = add_doc(svc, 1)
        c = create_dispatch(svc, DESPACHO, "SUR", now=at(30))  # 01/04
        add_document(svc, DESPACHO, c.id, archive_number=doc, now=at(30))
        add_text(svc, DESPACHO, c.id, "planos", sheets=4, now=at(30))
        prepare(svc, DESPACHO, c.id, now=at(30))
        send(svc, DESPACHO, c.id, courier=COURIER, guide_number="G", now=at(30))
        receive(svc, sur, c.id, [ItemReceipt("planos", ItemOutcome.FALTANTE)], now=at(31))
        resolve_item(svc, DESPACHO, c.id, "planos", "se enviaron de nuevo", now=at(32))
        back = create_return(svc, sur, c.id, now=at(33))
        prepare(svc, sur, back.id, now=at(33))
        send(svc, sur, back.id, courier=COURIER, guide_number="R", now=at(33))
        receive(svc, DESPACHO, back.id, now=at(36))

        rows = monthly_report(svc, DESPACHO, first=dt.date(2026, 3, 1), last=dt.date(2026, 4, 30),
                              today=dt.date(2026, 3, 20))
        got = [(r.month, r.unit_code, r.direction, r.sent, r.received, r.avg_transit_days,
                r.overdue, r.late, r.missing, r.damaged, r.unresolved) for r in rows]
        assert got == [
            ("2026-03", "NOR", "envío", 1, 0, None, 1, 0, 0, 0, 0),
            ("2026-03", "SUR", "envío", 2, 2, 3.5, 0, 1, 0, 1, 1),
            ("2026-04", "SUR", "devolución", 1, 1, 3.0, 0, 0, 0, 0, 0),
            ("2026-04", "SUR", "envío", 1, 1, 1.0, 0, 0, 1, 0, 0),
        ]
        only_march = monthly_report(svc, regional(svc, "SUR"), first=dt.date(2026, 3, 15),
                                    last=dt.date(2026, 3, 15), today=dt.date(2026, 3, 20))
        assert [(r.month, r.unit_code) for r in only_march] == [("2026-03", "SUR")]

        out = io.StringIO()
        write_csv(rows, out)
        lines = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
        assert lines[0] == ["mes", "codigo_unidad", "unidad", "sentido", "enviados", "recibidos",
                            "promedio_dias_transito", "vencidos", "entregados_tarde",
                            "items_faltantes", "items_danados", "observaciones_sin_resolver"]
        assert lines[1] == ["2026-03", "NOR", "Regional Norte", "envío", "1", "0", "", "1", "0",
                            "0", "0", "0"]
        assert lines[2] == ["2026-03", "SUR", "Regional Sur", "envío", "2", "2", "3,5", "0", "1",
                            "0", "1", "1"]
        assert len(lines) == 5
        assert monthly_report(svc, ADMIN, first=dt.date(2025, 1, 1),
                              last=dt.date(2025, 12, 1)) == []
    finally:
        svc.dispose()
