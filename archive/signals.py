"""Typed signals: how the core tells other packages that documents changed.

``archive`` imports no other package, yet a change to a document must reach
the search index, which lives in ``search``. The change travels in two halves,
like an outbox:

* **Durable half, inside the caller's transaction** (``mark_changed``,
  ``mark_document_changed``): the document rows get ``index_due`` set and
  ``updated_at`` bumped. This is the promise; it commits or rolls back with the
  change itself, so no subscriber is needed for the work to be found later (the
  sweeper finds due documents).
* **Wake-up half, after the commit** (``Signals.send``): subscribers hear a
  typed event and may act on it at once (search enqueues its indexing run).

Subscriber contract (what ``Signals.connect`` accepts):

* it is called in the sender's thread, after the sender's transaction committed;
  it gets no session and must open its own if it needs the database;
* it must be quick: send a message or note a fact, never do the work itself;
* it must be idempotent and must not rely on being called: a crash between the
  commit and the send loses the call, so the durable half is what counts;
* it should not raise for expected cases (queue down, nothing to do); whatever it
  raises is logged and swallowed, and never reaches the sender or other subscribers;
* it must not change documents (that would be a change nobody signals).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

from .models import Document, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentsChanged:
    """These documents committed a change their indexed form depends on (e.g. OCR finished)."""

    document_ids: tuple[int, ...]


@dataclass(frozen=True)
class Sweep:
    """A worker's periodic sweep: subscribers re-find work whose wake-up was lost."""


Event = DocumentsChanged | Sweep
E = TypeVar("E", DocumentsChanged, Sweep)


@dataclass
class Signals:
    """One archive's subscribers, by event class (see the module's contract)."""

    _receivers: dict[type, list[Callable[..., None]]] = field(default_factory=dict, repr=False)

    def connect(self, event_type: type[E], receiver: Callable[[E], None]) -> None:
        """Subscribe ``receiver`` to ``event_type``; subscribing the same callable twice is a no-op."""
        receivers = self._receivers.setdefault(event_type, [])
        if receiver not in receivers:
            receivers.append(receiver)

    def receivers(self, event_type: type) -> list[Callable[..., None]]:
        return list(self._receivers.get(event_type, []))

    def send(self, event: Event) -> None:
        """Call every subscriber of ``type(event)``; a failing one is logged, never propagated."""
        for receiver in self.receivers(type(event)):
            try:
                receiver(event)
            except Exception:  # noqa: BLE001 - the contract: the durable half re-finds the work
                log.warning("falló la tarea de seguimiento %s de %s",
                            getattr(receiver, "__name__", receiver), type(event).__name__,
                            exc_info=True)


def mark_changed(session: Session, document_ids: Iterable[int]) -> None:
    """The durable half for documents not loaded: due for indexing, in the caller's transaction.

    ``updated_at`` is bumped on purpose: it is what makes an indexing batch already
    in flight notice the change and leave ``index_due`` set.
    """
    ids = list(document_ids)
    if ids:
        session.execute(update(Document).where(Document.id.in_(ids))
                        .values(index_due=True, updated_at=utcnow()))


def mark_document_changed(doc: Document) -> None:
    """The durable half for a loaded document (its ``updated_at`` moves on flush)."""
    doc.index_due = True
