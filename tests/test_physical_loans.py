"""Loans (préstamos): lend, return, overdue on Paraguay's calendar, and what blocks a loan."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy import exc as sa_exc

from archive import physical as ph
from archive.dashboard_stats import collect
from archive.db import read_scope, session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.models import AuditEvent
from archive.services import Services
from dispatch import Actor, add_courier, add_folder, create_dispatch, prepare, receive, send
from dispatch.physical_rules import dispatch_hold

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Asunción
DESPACHO = Actor("despacho1", Role.DESPACHO)
ADMIN = Actor("admin", Role.ADMIN)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


@pytest.fixture
def shelf(services: Services) -> dict[str, str]:
    """A box holding folder CARP-000001 (NIS 4992383) and an empty folder CARP-000002."""
    with session_scope(services.sessions) as db:
        dep = ph.add_location(db, parent=None, name="Central", actor="ana")
        sala = ph.add_location(db, parent=dep.code, actor="ana")
        est = ph.add_location(db, parent=sala.code, actor="ana")
        box = ph.add_location(db, parent=est.code, actor="ana")
        box2 = ph.add_location(db, parent=est.code, actor="ana")
        ph.create_folder(db, nis="4992383", description="Contrato", location=box.code,
                         actor="ana")
        ph.create_folder(db, location=box.code, actor="ana")
        return {"box": box.code, "box2": box2.code, "f1": "CARP-000001", "f2": "CARP-000002"}


def test_lend_and_return_with_history(services: Services, shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        loan = ph.lend(db, "carp-000001", borrower=" Asesoría  Jurídica ", due=dt.date(2026, 3, 9),
                       note="reclamo 55", actor="ana", away=ph.NO_HOLDS, now=at())
        assert (loan.borrower, loan.lent_by) == ("Asesoría Jurídica", "ana")
        with pytest.raises(ArchivoError, match="ya está prestada a Asesoría Jurídica desde el "
                                               "02/03/2026"):
            ph.lend(db, "CARP-000001", borrower="Otro", due=dt.date(2026, 3, 9), actor="ana",
                    away=ph.NO_HOLDS, now=at())
        with pytest.raises(ArchivoError, match="está prestada a Asesoría Jurídica"):
            ph.move_folder(db, "CARP-000001", to=shelf["box2"], actor="ana", away=ph.NO_HOLDS)
    with session_scope(services.sessions) as db:
        back = ph.return_folder(db, "CARP-000001", note="completa", actor="beto", now=at(3))
        assert back.returned_by == "beto"
        with pytest.raises(ArchivoError, match="no está prestada"):
            ph.return_folder(db, "CARP-000001", actor="beto")
        # Back on the shelf: it can move and be lent again.
        ph.move_folder(db, "CARP-000001", to=shelf["box2"], actor="ana", away=ph.NO_HOLDS)
        ph.lend(db, "CARP-000001", borrower="Comercial", due=dt.date(2026, 3, 20), actor="ana",
                away=ph.NO_HOLDS, now=at(4))
    with read_scope(services.sessions) as db:
        detail = ph.folder_detail(db, "CARP-000001", now=at(4))
        assert [(ln.borrower, ln.open) for ln in detail.loans] == [
            ("Comercial", True), ("Asesoría Jurídica", False)]
        assert detail.open_loan is not None and detail.open_loan.borrower == "Comercial"
        events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == "CARP-000001")
                            .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["fisico.carpeta_crear", "fisico.prestar",
                                              "fisico.devolver", "fisico.carpeta_mover",
                                              "fisico.prestar"]
        assert events[2].details["dias_de_atraso"] == 0


def test_loan_input_is_checked(services: Services, shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match="a quién se presta"):
            ph.lend(db, "CARP-000001", borrower="  ", due=dt.date(2026, 3, 9), actor="ana",
                    away=ph.NO_HOLDS, now=at())
        with pytest.raises(ArchivoError, match="ya pasó"):
            ph.lend(db, "CARP-000001", borrower="X", due=dt.date(2026, 3, 1), actor="ana",
                    away=ph.NO_HOLDS, now=at())
        with pytest.raises(ph.NotFound):
            ph.lend(db, "CARP-000099", borrower="X", due=dt.date(2026, 3, 9), actor="ana",
                    away=ph.NO_HOLDS, now=at())


def test_two_open_loans_are_impossible_in_the_database(services: Services,
                                                       shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        ph.lend(db, "CARP-000001", borrower="A", due=dt.date(2026, 3, 9), actor="ana",
                away=ph.NO_HOLDS, now=at())
    with pytest.raises(sa_exc.IntegrityError):
        with session_scope(services.sessions) as db:
            folder = ph.get_folder(db, "CARP-000001")
            db.add(ph.Loan(folder_id=folder.id, borrower="B", due_date=dt.date(2026, 3, 9),
                           open_folder_id=folder.id))


def test_overdue_follows_paraguay_calendar(services: Services, shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        ph.lend(db, "CARP-000001", borrower="A", due=dt.date(2026, 3, 5), actor="ana",
                away=ph.NO_HOLDS, now=at())
        ph.lend(db, "CARP-000002", borrower="B", due=dt.date(2026, 3, 3), actor="ana",
                away=ph.NO_HOLDS, now=at())
    last_minute = dt.datetime(2026, 3, 6, 2, 59, tzinfo=UTC)  # 23:59 on the 5th in Asunción
    next_day = dt.datetime(2026, 3, 6, 3, 0, tzinfo=UTC)  # 00:00 on the 6th
    with read_scope(services.sessions) as db:
        assert [ln.folder.code for ln in ph.overdue_loans(db, now=last_minute)] == ["CARP-000002"]
        late = ph.overdue_loans(db, now=next_day)
        assert [ln.folder.code for ln in late] == ["CARP-000002", "CARP-000001"]  # most late first
        assert [ph.days_late(ln, dt.date(2026, 3, 6)) for ln in late] == [3, 1]
        assert ph.overdue_count(db, dt.date(2026, 3, 6)) == 2
        assert ph.overdue_loans(db, today=dt.date(2026, 3, 3)) == []
    with session_scope(services.sessions) as db:
        ph.return_folder(db, "CARP-000002", actor="ana", now=next_day)
    stats = collect(services, now=next_day)
    assert stats.overdue_loans == 1
    assert [(p.folder_code, p.nis, p.borrower, p.days_late) for p in stats.overdue_loan_list] == [
        ("CARP-000001", "4992383", "A", 1)]


def _dispatch_label(services: Services, code: str, *, send_it: bool = True,
                    received: bool = False) -> str:
    add_courier(services, ADMIN, "Correo Paraguayo")
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    add_folder(services, DESPACHO, d.id, code, now=at())
    if send_it:
        prepare(services, DESPACHO, d.id, now=at())
        send(services, DESPACHO, d.id, courier="Correo Paraguayo", guide_number="G-1", now=at())
    if received:  # no item receipts given: everything arrived
        receive(services, ADMIN, d.id, now=at(2))
    return d.number


def test_dispatched_folder_cannot_be_lent_or_moved(services: Services,
                                                   shelf: dict[str, str]) -> None:
    number = _dispatch_label(services, "carp-000001")
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match=f"CARP-000001 está en tránsito a Regional Sur "
                                               f"\\(despacho {number}"):
            ph.lend(db, "CARP-000001", borrower="A", due=dt.date(2026, 3, 9), actor="ana",
                    away=dispatch_hold, now=at())
        with pytest.raises(ArchivoError, match="No se puede mover la carpeta CARP-000001"):
            ph.move_folder(db, "CARP-000001", to=shelf["box2"], actor="ana", away=dispatch_hold)
        # The other folder is on the shelf.
        ph.lend(db, "CARP-000002", borrower="A", due=dt.date(2026, 3, 9), actor="ana",
                away=dispatch_hold, now=at())
    with read_scope(services.sessions) as db:
        assert "en tránsito a Regional Sur" in (ph.folder_detail(db, "CARP-000001",
                                                                  away=dispatch_hold).hold or "")


def test_folders_in_a_dispatched_box_are_away_too(services: Services,
                                                  shelf: dict[str, str]) -> None:
    _dispatch_label(services, shelf["box"], received=True)
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match=f"{shelf['box']} está en Regional Sur desde"):
            ph.lend(db, "CARP-000002", borrower="A", due=dt.date(2026, 3, 9), actor="ana",
                    away=dispatch_hold, now=at(3))
        with pytest.raises(ArchivoError, match="No se puede mover la carpeta CARP-000002"):
            ph.move_folder(db, "CARP-000002", to=shelf["box2"], actor="ana", away=dispatch_hold)
        room = ph.get_location(db, shelf["box"]).parent.parent.code
        other_shelf = ph.add_location(db, parent=room, actor="ana")
        with pytest.raises(ArchivoError, match=f"No se puede mover Caja {shelf['box']}"):
            ph.move_location(db, shelf["box"], to=other_shelf.code, actor="ana",
                             away=dispatch_hold)


def test_a_reserved_folder_may_move_but_not_be_lent(services: Services,
                                                    shelf: dict[str, str]) -> None:
    _dispatch_label(services, "CARP-000001", send_it=False)
    with session_scope(services.sessions) as db:
        with pytest.raises(ArchivoError, match="reservado para el despacho"):
            ph.lend(db, "CARP-000001", borrower="A", due=dt.date(2026, 3, 9), actor="ana",
                    away=dispatch_hold, now=at())
        ph.move_folder(db, "CARP-000001", to=shelf["box2"], actor="ana", away=dispatch_hold)
    with read_scope(services.sessions) as db:
        detail = ph.folder_detail(db, "CARP-000001", away=dispatch_hold)
        assert "reservado para el despacho" in (detail.hold or "")
        assert detail.hold_blocks_move is False


def test_lent_folder_cannot_be_dispatched(services: Services, shelf: dict[str, str]) -> None:
    with session_scope(services.sessions) as db:
        ph.lend(db, "CARP-000001", borrower="Asesoría Jurídica", due=dt.date(2026, 3, 9),
                actor="ana", away=ph.NO_HOLDS, now=at())
    d = create_dispatch(services, DESPACHO, "SUR", now=at())
    with pytest.raises(ArchivoError, match="prestada a Asesoría Jurídica"):
        add_folder(services, DESPACHO, d.id, "CARP-000001", now=at())
    add_folder(services, DESPACHO, d.id, "CARP-000002", now=at())  # the other one is on the shelf
