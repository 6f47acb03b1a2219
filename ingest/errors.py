"""Errors of the ingest pipeline.

``RejectedInput`` is bad input: never retried, the document goes to ``error``
with the message and the original stays in storage (quarantine).
``TransientError`` is a fault worth retrying (storage down, lock timeout).
"""

from __future__ import annotations

from archive.errors import ArchivoError


class RejectedInput(ArchivoError):
    """The file cannot be archived as it is; ``str()`` tells the archivist why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code  # short stable tag: vacio, truncado, bomba, cifrado, tipo, paginas, tamano, ...
        super().__init__(message)


class TransientError(ArchivoError):
    """A temporary fault; the task is retried with backoff."""
