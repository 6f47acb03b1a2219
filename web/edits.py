"""Run one person's change to a document from a form: transaction, message, index wake-up.

The rules live in ``archive.editing``; this is the web plumbing every form
that changes a document shares (document page, review queue).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import abort, current_app, flash

from archive.db import session_scope
from archive.errors import ArchivoError
from archive.models import Document
from archive.services import Services
from search.tasks import request_indexing

from . import services_of
from .security import current_user

log = logging.getLogger(__name__)

Change = Callable[[Any, Document, str], str]  # (session, document, username) -> message


def wake_indexer(services: Services) -> None:
    """The change is committed; if the queue is unreachable the worker's sweep finds it later."""
    try:
        request_indexing(services)
    except Exception:  # noqa: BLE001
        log.warning("no se pudo pedir la reindexación", exc_info=True)


def change_document(doc_id: int, change: Change) -> bool:
    """Apply ``change`` in one transaction and flash its message (or the Spanish refusal)."""
    services = services_of(current_app)
    user = current_user()
    assert user is not None
    try:
        with session_scope(services.sessions) as db:
            doc = db.get(Document, doc_id)
            if doc is None:
                abort(404, description=f"No existe el documento número {doc_id}.")
            message = change(db, doc, user.username)
    except ArchivoError as exc:
        flash(str(exc), "error")
        return False
    flash(message)
    wake_indexer(services)
    return True
