"""The state machine: every refused transition; the whole workflow on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import verify_chain
from archive.db import session_scope
from archive.models import AuditEvent
from dispatch import (Action, DispatchState, ItemOutcome, ItemReceipt, TransitionRefused,
                      add_document, add_folder, add_text, annul, create_dispatch, create_return,
                      get_dispatch, prepare, receive, remove_item, reopen, send, where_is)
from dispatch.workflow import TRANSITIONS, allowed_actions, check, check_editable, receipt_state
from tests.dispatch_helpers import (COURIER, DESPACHO, add_doc, at, dispatch_services,
                                    doc_id, regional)
from tests.physical_helpers import register_boxes

S = DispatchState

REFUSED = [(state, action) for state in S for action in Action
           if action not in TRANSITIONS[state]]


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=lambda v: v.value)
def test_every_refused_transition_says_what_is_allowed(state: S, action: Action) -> None:
    with pytest.raises(TransitionRefused) as err:
        check(state, action, number="ENV-2026-000001")
    message = str(err.value)
    assert f"No se puede {action.label} el despacho ENV-2026-000001" in message
    assert f"está «{state.label}»" in message
    allowed = allowed_actions(state)
    if allowed:
        assert all(a.label in message for a in allowed)
    else:
        assert "ya no admite cambios de estado" in message


def test_allowed_transitions_and_their_messages() -> None:
    assert check(S.BORRADOR, Action.PREPARAR) is S.PREPARADO
    assert check(S.PREPARADO, Action.REABRIR) is S.BORRADOR
    assert check(S.PREPARADO, Action.ENVIAR) is S.ENVIADO
    assert check(S.PREPARADO, Action.ANULAR) is S.ANULADO
    assert check(S.RECIBIDO_CON_OBSERVACIONES, Action.DEVOLVER) is S.DEVUELTO
    with pytest.raises(TransitionRefused, match="Desde «Borrador» solo se puede preparar o anular"):
        check(S.BORRADOR, Action.ENVIAR)
    with pytest.raises(TransitionRefused, match="es una devolución"):
        check(S.RECIBIDO, Action.DEVOLVER, is_return=True)
    with pytest.raises(TransitionRefused, match="Reábralo primero"):
        check_editable(S.PREPARADO, "ENV-2026-000001")
    with pytest.raises(TransitionRefused, match="solo se modifican en «Borrador»"):
        check_editable(S.ENVIADO)
    check_editable(S.BORRADOR)
    assert receipt_state([ItemOutcome.RECIBIDO] * 3) is S.RECIBIDO
    assert receipt_state([ItemOutcome.RECIBIDO, ItemOutcome.DANADO]) is S.RECIBIDO_CON_OBSERVACIONES


def test_whole_workflow(tmp_path: Path, db_url: str) -> None:
    svc = dispatch_services(tmp_path, db_url)
    sur = regional(svc, "SUR")
    a = add_doc(svc, 1, ("4992383",), pages=3)
    b = add_doc(svc, 2, ("1234567",), pages=5)
    register_boxes(svc, "CAJA-0042")
    try:
        d = create_dispatch(svc, DESPACHO, "SUR", notes="Para el reclamo 55/2026", now=at())
        assert d.number == "ENV-2026-000001" and d.state is S.BORRADOR
        assert d.destination == "Regional Sur" and d.origin == "Archivo de Atención al Cliente"
        add_document(svc, DESPACHO, d.number, archive_number="arc-2026-1", now=at(hours=1))
        add_document(svc, DESPACHO, d.id, archive_number=b, original=False, now=at(hours=1))
        add_folder(svc, DESPACHO, d.id, "caja 0042", description="Contratos 2015", now=at(hours=1))
        extra = add_text(svc, DESPACHO, d.id, "antecedentes del reclamo", sheets=12,
                         now=at(hours=1))
        remove_item(svc, DESPACHO, d.id, extra.id, now=at(hours=1))
        add_text(svc, DESPACHO, d.id, "antecedentes, 12 fojas", sheets=12, now=at(hours=1))
        assert where_is(svc, document_id=doc_id(svc, a)).text.startswith(
            "en el archivo, reservado para el despacho ENV-2026-000001 a Regional Sur")

        d = prepare(svc, DESPACHO, d.id, now=at(hours=2))
        d = reopen(svc, DESPACHO, d.id, note="falta una nota", now=at(hours=2))
        assert d.state is S.BORRADOR and d.prepared_at is None
        d = prepare(svc, DESPACHO, d.id, now=at(hours=3))
        assert d.state is S.PREPARADO and len(d.items) == 4 and d.total_sheets == 3 + 5 + 12

        d = send(svc, DESPACHO, d.id, courier="correo paraguayo", guide_number="CP-778812",
                 now=at(hours=4))
        assert d.state is S.ENVIADO and d.courier == COURIER and d.guide_number == "CP-778812"
        assert d.expected_delivery == dt.date(2026, 3, 5)  # 3 days by default
        assert where_is(svc, document_id=doc_id(svc, a)).text == (
            "en tránsito a Regional Sur (despacho ENV-2026-000001, enviado el 02/03/2026)")
        assert where_is(svc, label_code="CAJA-0042").status == "en_transito"
        assert where_is(svc, document_id=doc_id(svc, b)).text == "en el archivo"  # a copy went

        d = receive(svc, sur, d.id, [ItemReceipt("CAJA-0042", ItemOutcome.DANADO, "caja mojada")],
                    note="llegó por la tarde", now=at(days=2, hours=5))
        assert d.state is S.RECIBIDO_CON_OBSERVACIONES and d.transit_days == 2
        outcomes = {i.reference: (i.outcome, i.outcome_note) for i in d.items}
        assert outcomes["CAJA-0042"] == (ItemOutcome.DANADO, "caja mojada")
        assert outcomes[a] == (ItemOutcome.RECIBIDO, "")
        assert where_is(svc, document_id=doc_id(svc, a)).text == (
            "en Regional Sur desde el 04/03/2026")

        back = create_return(svc, sur, d.id, now=at(days=10))
        assert back.is_return and back.return_of_number == d.number
        assert back.origin == "Regional Sur"
        assert back.destination == "Archivo de Atención al Cliente"
        assert sorted(i.reference for i in back.items) == sorted(
            [a, "CAJA-0042", "antecedentes, 12 fojas"])  # the copy stays at the unit
        back = prepare(svc, sur, back.id, now=at(days=10))
        back = send(svc, sur, back.id, courier=COURIER, guide_number="CP-9000", now=at(days=10))
        assert where_is(svc, document_id=doc_id(svc, a)).text.startswith(
            "en tránsito a Archivo de Atención al Cliente")
        back = receive(svc, DESPACHO, back.id, now=at(days=11))
        assert back.state is S.RECIBIDO
        assert get_dispatch(svc, DESPACHO, d.id).state is S.DEVUELTO
        assert where_is(svc, document_id=doc_id(svc, a)).text == (
            "en el archivo desde el 13/03/2026 (devuelto por Regional Sur en ENV-2026-000002)")

        full = get_dispatch(svc, DESPACHO, d.number)
        assert [(e.action, e.from_state, e.to_state) for e in full.events] == [
            ("crear", None, S.BORRADOR),
            *[("agregar_item", S.BORRADOR, S.BORRADOR)] * 4,
            ("quitar_item", S.BORRADOR, S.BORRADOR),
            ("agregar_item", S.BORRADOR, S.BORRADOR),
            ("preparar", S.BORRADOR, S.PREPARADO),
            ("reabrir", S.PREPARADO, S.BORRADOR),
            ("preparar", S.BORRADOR, S.PREPARADO),
            ("enviar", S.PREPARADO, S.ENVIADO),
            ("recibir", S.ENVIADO, S.RECIBIDO_CON_OBSERVACIONES),
            ("devolver", S.RECIBIDO_CON_OBSERVACIONES, S.DEVUELTO),
        ]
        assert full.events[-1].note == "Devolución ENV-2026-000002 recibida"
        assert {e.actor for e in full.events} == {"despacho1", "usuario_sur"}
        with session_scope(svc.sessions) as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            assert verify_chain(events) == []
            actions = [e.action for e in events if e.object_type == "despacho"]
        assert actions.count("despacho.recibir") == 2 and "despacho.devolver" in actions
    finally:
        svc.dispose()


def test_refused_transitions_through_the_service(tmp_path: Path) -> None:
    svc = dispatch_services(tmp_path)
    sur = regional(svc, "SUR")
    a = add_doc(svc, 1)
    d = create_dispatch(svc, DESPACHO, "SUR", now=at())
    with pytest.raises(Exception, match="no tiene ítems"):
        prepare(svc, DESPACHO, d.id, now=at())
    with pytest.raises(TransitionRefused, match="Desde «Borrador» solo se puede preparar o anular"):
        send(svc, DESPACHO, d.id, courier=COURIER, guide_number="1", now=at())
    with pytest.raises(TransitionRefused, match="No se puede recibir"):
        receive(svc, sur, d.id, now=at())
    add_document(svc, DESPACHO, d.id, archive_number=a, now=at())
    prepare(svc, DESPACHO, d.id, now=at())
    with pytest.raises(TransitionRefused, match="Reábralo primero"):
        add_text(svc, DESPACHO, d.id, "otra cosa", sheets=1, now=at())
    with pytest.raises(Exception, match="número de guía"):
        send(svc, DESPACHO, d.id, courier=COURIER, guide_number=" ", now=at())
    with pytest.raises(Exception, match="no existe. Servicios habilitados: Correo Paraguayo"):
        send(svc, DESPACHO, d.id, courier="DHL", guide_number="1", now=at())
    with pytest.raises(Exception, match="no puede ser futura"):
        send(svc, DESPACHO, d.id, courier=COURIER, guide_number="1", sent_at=at(days=2), now=at())
    send(svc, DESPACHO, d.id, courier=COURIER, guide_number="1", now=at())
    with pytest.raises(TransitionRefused, match="Desde «Enviado» solo se puede recibir"):
        annul(svc, DESPACHO, d.id, "ya no hace falta", now=at())
    with pytest.raises(TransitionRefused, match="No se puede preparar"):
        prepare(svc, DESPACHO, d.id, now=at())
    receive(svc, sur, d.id, now=at(days=1))
    with pytest.raises(TransitionRefused,
                       match="Desde «Recibido» solo se puede marcar como devuelto"):
        receive(svc, sur, d.id, now=at(days=1))
    with pytest.raises(Exception, match="Indique el motivo"):
        annul(svc, DESPACHO, create_dispatch(svc, DESPACHO, "SUR", now=at()).id, "  ", now=at())
    gone = annul(svc, DESPACHO, "ENV-2026-2", "destino equivocado", now=at())
    assert gone.state is S.ANULADO and gone.annul_reason == "destino equivocado"
    with pytest.raises(TransitionRefused, match="ya no admite cambios de estado"):
        prepare(svc, DESPACHO, gone.id, now=at())
    svc.dispose()
