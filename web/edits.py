"""Run one person's change to a document from a form: transaction, message, index wake-up.

The rules live in ``archive.editing``; this is the web plumbing every form
that changes a document shares (document page, review queue). It also holds
the NIS confirmation step every form with a NIS field shares: a number that
is well formed but doubtful (``archive.nis_check``) is not saved on the first
submit; the person sees the warnings and the form again, with what they typed,
and saves with a second, confirmed submit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Callable

from flask import abort, current_app, flash, render_template, request

from archive.db import read_scope, session_scope
from archive.errors import ArchivoError
from archive.models import Document
from archive.nis_check import NisCheck, check_nis
from archive.queue import wake
from archive.services import Services
from search import request_indexing

from . import services_of
from .security import current_user


Change = Callable[[Any, Document, str], str]  # (session, document, username) -> message


def wake_indexer(services: Services) -> None:
    """The change is committed; if the queue is unreachable the worker's sweep finds it later."""
    wake(lambda: request_indexing(services), "pedir la reindexación")


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


CONFIRM_FIELD = "confirmar_nis"  # carries NisCheck.key: what the person saw and confirmed


def nis_to_confirm(values: Iterable[str], *, already: Collection[str] = ()) -> NisCheck | None:
    """The doubtful check still to be confirmed, or None (fine, confirmed, or malformed).

    Malformed numbers are left to the action, which refuses them with its own
    message; ``already`` are numbers the document has (confirmed) and need no warning.
    """
    values = [v for v in values if v.strip()]
    if not values:
        return None
    try:
        with read_scope(services_of(current_app).sessions) as db:
            check = check_nis(db, values)
    except ArchivoError:
        return None
    warnings = [w for w in check.warnings if w.nis not in already]
    if not warnings or request.form.get(CONFIRM_FIELD) == check.key:
        return None
    return NisCheck(check.nis, warnings)


def confirm_nis_page(check: NisCheck, *, back: str, title: str, nis_field: str = "nis",
                     nis_label: str = "NIS") -> tuple[str, int]:
    """The form again: every field posted kept (hidden), the NIS editable, and a confirm box."""
    hidden = [(k, v) for k in request.form
              for v in request.form.getlist(k)
              if k not in (nis_field, CONFIRM_FIELD, "csrf_token")]
    typed = ", ".join(v.strip() for v in request.form.getlist(nis_field) if v.strip())
    return render_template("confirmar_nis.html", check=check, hidden=hidden, typed=typed,
                           action=request.path, back=back, title=title, nis_field=nis_field,
                           nis_label=nis_label, confirm_field=CONFIRM_FIELD), 200
