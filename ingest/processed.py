"""The end of one processing run, as the queue's owner needs it.

Its own module so that ``ingest.split`` (which records a batch) and
``ingest.process`` (which runs a document) can both return it without either
importing the queue (``ingest.tasks``), which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

SKIPPED = "omitido"  # the status of a run that found the document held by another worker


@dataclass(frozen=True)
class Processed:
    """A document's status after a run, and the documents the run left waiting.

    ``status`` is a document status value, or ``"omitido"`` when another worker
    holds (or took over) the document. ``waiting`` are the documents a split
    made or reopened: durable rows in ``recibido`` that ``ingest.tasks`` sends
    to the workers (or the sweeper, if that message is lost).
    """

    status: str
    waiting: tuple[int, ...] = ()


__all__ = ["Processed", "SKIPPED"]
