"""Property: random sequences of actions never lose an item nor reach an inconsistent state.

Hypothesis drives a state machine of every service action with random (often
invalid) arguments. A refused action must change nothing; after every step
the whole database is checked against a model of the items and against the
rules of the workflow. Each run gets its own copy of a prepared SQLite file,
so runs are independent and fast.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant,
                                 precondition, rule, run_state_machine_as_test)
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from archive.db import read_scope
from archive.models import Document
from archive.errors import ArchivoError
from archive.services import Services
from dispatch import (DispatchState, ItemOutcome, ItemReceipt, add_document, add_folder, add_text,
                      annul, create_dispatch, create_return, prepare, receive, remove_item,
                      reopen, resolve_item, send)
from dispatch.location import IN_TRANSIT, RESERVED, locate
from dispatch.models import Dispatch
from dispatch.workflow import OPEN_STATES, RECEIVED_STATES
from archive.audit_key import FILE_NAME as AUDIT_KEY_FILE
from tests.conftest import make_services
from tests.dispatch_helpers import ADMIN, COURIER, add_doc, at, dispatch_services
from tests.physical_helpers import register_boxes

S = DispatchState
DOCS = [f"ARC-2026-{n:06d}" for n in range(1, 5)]
LABELS = ["CAJA-1", "CAJA-2"]
UNITS = ["SUR", "NOR"]


def _snapshot(svc: Services) -> list[tuple[object, ...]]:
    """Everything an action could change, to prove that a refused one changed nothing."""
    with read_scope(svc.sessions) as s:
        return [tuple(r) for q in (_DISPATCH_ROWS, _ITEM_ROWS, _EVENT_COUNT)
                for r in s.execute(q)]


_DISPATCH_ROWS = text("SELECT id, state, courier_id, guide_number, sent_at, received_at, "
                      "prepared_at, annul_reason, expected_delivery FROM dispatches ORDER BY id")
_ITEM_ROWS = text("SELECT id, dispatch_id, hold_key, outcome, outcome_note, resolved "
                  "FROM dispatch_items ORDER BY id")
_EVENT_COUNT = text("SELECT (SELECT count(*) FROM dispatch_events), "
                    "(SELECT count(*) FROM audit_events)")


class DispatchMachine(RuleBasedStateMachine):
    template: Path
    workdir: Path
    doc_ids: dict[str, int]  # the same in every copy of the template
    counter = itertools.count()

    dispatches = Bundle("dispatches")

    def __init__(self) -> None:
        super().__init__()
        home = self.workdir / f"run{next(self.counter)}"
        home.mkdir(parents=True)
        db = home / "archivo.db"
        src, dst = sqlite3.connect(self.template), sqlite3.connect(db)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        # The copy's audit events are sealed with the template's key: it goes along.
        shutil.copy2(self.template.with_name(AUDIT_KEY_FILE), home / AUDIT_KEY_FILE)
        self.svc = make_services(home, ARCHIVO_DATABASE_URL=f"sqlite:///{db}")
        self.items: dict[int, set[int]] = {}  # the model: what each dispatch must contain
        self.day = 0.0

    def teardown(self) -> None:
        self.svc.dispose()

    def _try(self, action, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Run an action; if refused, nothing may have changed. Returns the result or None."""
        self.day += 0.25
        before = _snapshot(self.svc)
        try:
            result = action(self.svc, ADMIN, *args, now=at(self.day), **kwargs)
        except ArchivoError:
            assert _snapshot(self.svc) == before
            event(f"rechazado: {action.__name__}")
            return None
        event(f"hecho: {action.__name__}")
        return result

    @initialize(target=dispatches, unit=st.sampled_from(UNITS))
    def first(self, unit: str) -> int:
        return self.create(unit)

    @precondition(lambda self: len(self.items) < 4)
    @rule(target=dispatches, unit=st.sampled_from(UNITS))
    def create(self, unit: str) -> int:
        d = self._try(create_dispatch, unit)
        self.items[d.id] = set()
        return d.id

    @rule(d=dispatches, doc=st.sampled_from(DOCS), original=st.booleans())
    def put_doc(self, d: int, doc: str, original: bool) -> None:
        item = self._try(add_document, d, archive_number=doc, original=original)
        if item is not None:
            self.items[d].add(item.id)

    @rule(d=dispatches, label=st.sampled_from(LABELS))
    def add_box(self, d: int, label: str) -> None:
        item = self._try(add_folder, d, label)
        if item is not None:
            self.items[d].add(item.id)

    @rule(d=dispatches, sheets=st.integers(0, 30), original=st.booleans())
    def add_words(self, d: int, sheets: int, original: bool) -> None:
        item = self._try(add_text, d, f"antecedentes {sheets}", sheets=sheets, original=original)
        if item is not None:
            self.items[d].add(item.id)

    @rule(d=dispatches, pick=st.integers(0, 5))
    def remove(self, d: int, pick: int) -> None:
        ids = sorted(self.items[d])
        if not ids:
            return
        target = ids[pick % len(ids)]
        before = _snapshot(self.svc)
        try:
            remove_item(self.svc, ADMIN, d, target, now=at(self.day))
        except ArchivoError:
            assert _snapshot(self.svc) == before
        else:
            self.items[d].discard(target)

    @rule(d=dispatches, steps=st.integers(1, 4), outcome=st.sampled_from(list(ItemOutcome)))
    def advance(self, d: int, steps: int, outcome: ItemOutcome) -> None:
        """Natural next steps, so random runs reach sent, received and returned dispatches."""
        for _ in range(steps):
            with read_scope(self.svc.sessions) as s:
                state = s.get(Dispatch, d).state  # type: ignore[union-attr]
            if state is S.BORRADOR:
                if not self.items[d]:
                    self.add_words(d, 1, True)
                self._try(prepare, d)
            elif state is S.PREPARADO:
                self._try(send, d, courier=COURIER, guide_number="CP-9")
            elif state is S.ENVIADO:
                first = sorted(self.items[d])[:1]
                self._try(receive, d, [ItemReceipt(i, outcome) for i in first])
            elif state in RECEIVED_STATES:
                back = self._try(create_return, d)
                if back is not None:
                    self.items[back.id] = {i.id for i in back.items}
                    d = back.id  # follow the return trip home

    @rule(d=dispatches)
    def do_reopen(self, d: int) -> None:
        self._try(reopen, d)

    @rule(d=dispatches, guide=st.sampled_from(["CP-1", "G 2", "CP-1", ""]))
    def do_send(self, d: int, guide: str) -> None:
        self._try(send, d, courier=COURIER, guide_number=guide)

    @rule(d=dispatches, outcomes=st.lists(st.sampled_from(list(ItemOutcome)), max_size=4))
    def do_receive(self, d: int, outcomes: list[ItemOutcome]) -> None:
        ids = sorted(self.items[d])
        receipts = [ItemReceipt(i, o, "nota") for i, o in zip(ids, outcomes, strict=False)]
        self._try(receive, d, receipts)

    @rule(d=dispatches, reason=st.sampled_from(["", "", "error de destino"]))
    def do_annul(self, d: int, reason: str) -> None:
        self._try(annul, d, reason)

    @rule(target=dispatches, d=dispatches, copies=st.booleans())
    def do_return(self, d: int, copies: bool) -> int:
        back = self._try(create_return, d, include_copies=copies)
        if back is None:
            return d  # the bundle gets an existing dispatch again: harmless
        self.items[back.id] = {i.id for i in back.items}
        return back.id

    @rule(d=dispatches, pick=st.integers(0, 5))
    def do_resolve(self, d: int, pick: int) -> None:
        ids = sorted(self.items[d])
        if ids:
            self._try(resolve_item, d, ids[pick % len(ids)], "resuelto")

    @invariant()
    def consistent(self) -> None:
        with read_scope(self.svc.sessions) as s:
            all_d = s.scalars(select(Dispatch).options(selectinload(Dispatch.items),
                                                       selectinload(Dispatch.events))).all()
            assert {d.id: {i.id for i in d.items} for d in all_d} == self.items  # nothing lost
            holds: list[str] = []
            for d in all_d:
                _check_dispatch(d, all_d)
                holds += [i.hold_key for i in d.items if i.hold_key]
            assert len(holds) == len(set(holds))
            for document_id in self.doc_ids.values():
                where = locate(s, document_id=document_id)
                open_with = [d for d in all_d if d.state in OPEN_STATES and any(
                    i.is_original and i.document_id == document_id for i in d.items)]
                assert len(open_with) <= 1
                assert (where.status in (RESERVED, IN_TRANSIT)) == bool(open_with)


def _check_dispatch(d: Dispatch, all_d: list[Dispatch]) -> None:
    """The rules a dispatch row, its items and its history must satisfy in every state."""
    states = [(e.from_state, e.to_state) for e in d.events]
    assert states[0] == (None, S.BORRADOR)
    assert all(prev[1] == cur[0] for prev, cur in zip(states, states[1:], strict=False))
    assert states[-1][1] is d.state
    sent = d.state in (S.ENVIADO, *RECEIVED_STATES)
    assert (d.sent_at is not None) == sent
    assert (d.courier_id is not None and bool(d.guide_number)) == sent
    assert (d.expected_delivery is not None) == sent
    if d.state is S.BORRADOR:
        assert d.prepared_at is None  # reopening voids the printed manifest
    elif d.state is not S.ANULADO:
        assert d.prepared_at is not None
    received = d.state in RECEIVED_STATES
    assert (d.received_at is not None) == received
    outcomes = [i.outcome for i in d.items]
    if received:
        assert d.items and all(o is not None for o in outcomes)
        flagged = any(o is not ItemOutcome.RECIBIDO for o in outcomes)
        if d.state is not S.DEVUELTO:
            assert flagged == (d.state is S.RECIBIDO_CON_OBSERVACIONES)
    else:
        assert all(o is None for o in outcomes) and not any(i.resolved for i in d.items)
    assert all(not i.resolved or i.is_discrepancy for i in d.items)
    assert (d.annul_reason is not None) == (d.state is S.ANULADO)
    if d.state in (S.PREPARADO, S.ENVIADO, *RECEIVED_STATES):
        assert d.items
    for i in d.items:
        physical = (i.is_original and i.document_id is not None) or i.label_code is not None
        assert (i.hold_key is not None) == (physical and d.state in OPEN_STATES)
        if i.hold_key:
            assert i.hold_key in (f"doc:{i.document_id}", f"label:{i.label_code}")
    returns = [r for r in all_d if r.return_of_id == d.id and r.state is not S.ANULADO]
    assert len(returns) <= 1
    if d.is_return:
        assert d.state is not S.DEVUELTO and not returns
    came_back = any(r.state in RECEIVED_STATES for r in returns)
    assert (d.state is S.DEVUELTO) == came_back


def test_random_action_sequences_keep_every_item_and_every_rule(tmp_path: Path) -> None:
    svc = dispatch_services(tmp_path / "tpl")
    for n in range(1, len(DOCS) + 1):
        add_doc(svc, n, (f"{4000000 + n}",))
    register_boxes(svc, *LABELS)
    template = Path(svc.settings.home) / "archivo.db"
    with read_scope(svc.sessions) as s:
        DispatchMachine.doc_ids = dict(s.execute(select(Document.archive_number,
                                                       Document.id)).all())
    svc.dispose()
    DispatchMachine.template = template
    DispatchMachine.workdir = tmp_path / "runs"
    run_state_machine_as_test(DispatchMachine, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
