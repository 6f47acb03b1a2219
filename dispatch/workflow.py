"""The dispatch state machine, pure: no database, so every rule is testable in isolation.

::

    borrador --preparar--> preparado --enviar--> enviado --recibir--> recibido
        ^                     |                                  \\-> recibido_con_observaciones
        +------reabrir--------+                   recibido* --devolver--> devuelto
    borrador, preparado --anular--> anulado

``devolver`` is not done by hand: the receipt of the return trip linked to a
dispatch moves it to ``devuelto``. A return trip itself is never returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from archive.errors import ArchivoError

from .enums import Action, DispatchState, ItemOutcome

S = DispatchState

TRANSITIONS: dict[DispatchState, dict[Action, tuple[DispatchState, ...]]] = {
    S.BORRADOR: {Action.PREPARAR: (S.PREPARADO,), Action.ANULAR: (S.ANULADO,)},
    S.PREPARADO: {Action.ENVIAR: (S.ENVIADO,), Action.REABRIR: (S.BORRADOR,),
                  Action.ANULAR: (S.ANULADO,)},
    S.ENVIADO: {Action.RECIBIR: (S.RECIBIDO, S.RECIBIDO_CON_OBSERVACIONES)},
    S.RECIBIDO: {Action.DEVOLVER: (S.DEVUELTO,)},
    S.RECIBIDO_CON_OBSERVACIONES: {Action.DEVOLVER: (S.DEVUELTO,)},
    S.DEVUELTO: {},
    S.ANULADO: {},
}

# The package is still with the sender or on the road: its originals are held.
OPEN_STATES = frozenset({S.BORRADOR, S.PREPARADO, S.ENVIADO})
RECEIVED_STATES = frozenset({S.RECIBIDO, S.RECIBIDO_CON_OBSERVACIONES, S.DEVUELTO})
# Only while nothing left the building may the contents change.
EDITABLE_STATES = frozenset({S.BORRADOR})


class TransitionRefused(ArchivoError):
    """An action that the dispatch's state does not allow; the message says what is allowed."""


def allowed_actions(state: DispatchState, *, is_return: bool = False) -> list[Action]:
    actions = list(TRANSITIONS[state])
    if is_return:
        actions = [a for a in actions if a is not Action.DEVOLVER]
    return actions


def _spanish_list(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " o " + words[-1]


def describe_allowed(state: DispatchState, *, is_return: bool = False) -> str:
    actions = allowed_actions(state, is_return=is_return)
    if not actions:
        return f"Un despacho «{state.label}» ya no admite cambios de estado."
    return f"Desde «{state.label}» solo se puede {_spanish_list([a.label for a in actions])}."


def targets(state: DispatchState, action: Action, *, number: str = "",
            is_return: bool = False) -> tuple[DispatchState, ...]:
    """The states ``action`` may lead to from ``state``; refuses in Spanish otherwise."""
    allowed = TRANSITIONS[state].get(action)
    if allowed is None or (is_return and action is Action.DEVOLVER):
        which = f"el despacho {number}" if number else "el despacho"
        if is_return and action is Action.DEVOLVER:
            raise TransitionRefused(f"No se puede {action.label} {which}: es una devolución, "
                                    "no se devuelve a su vez.")
        raise TransitionRefused(f"No se puede {action.label} {which}: está «{state.label}». "
                                + describe_allowed(state, is_return=is_return))
    return allowed


def check(state: DispatchState, action: Action, *, number: str = "",
          is_return: bool = False) -> DispatchState:
    """The single target of a deterministic action (every one but ``recibir``)."""
    return targets(state, action, number=number, is_return=is_return)[0]


def check_editable(state: DispatchState, number: str = "") -> None:
    """Items can be added or removed only in ``borrador``."""
    if state not in EDITABLE_STATES:
        which = f"del despacho {number}" if number else "del despacho"
        hint = " Reábralo primero (vuelve a «Borrador»)." if state is S.PREPARADO else ""
        raise TransitionRefused(f"No se pueden cambiar los ítems {which}: está «{state.label}»; "
                                f"solo se modifican en «{S.BORRADOR.label}».{hint}")


def receipt_state(outcomes: Iterable[ItemOutcome]) -> DispatchState:
    """All items received: ``recibido``; any missing or damaged: ``recibido_con_observaciones``."""
    if any(o is not ItemOutcome.RECIBIDO for o in outcomes):
        return S.RECIBIDO_CON_OBSERVACIONES
    return S.RECIBIDO


def days_late(state: DispatchState, expected: dt.date | None, today: dt.date) -> int:
    """Days past the expected delivery while still ``enviado`` (0 otherwise).

    A dispatch is due *on* its expected day and overdue from the next day.
    """
    if state is not S.ENVIADO or expected is None:
        return 0
    return max(0, (today - expected).days)
