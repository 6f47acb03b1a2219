"""Reading what people type or scan: dispatch numbers, archive numbers, label codes."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import ArchivoError
from archive.models import Document, RegionalUnit

from .enums import DispatchState
from .models import Dispatch
from .permissions import Actor, DispatchScope, can_view

_DISPATCH = re.compile(r"ENV-?(\d{4})-?(\d{1,6})", re.IGNORECASE)
_ARCHIVE = re.compile(r"ARC-?(\d{4})-?(\d{1,6})", re.IGNORECASE)
_LABEL = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,59}$")

DispatchRef = int | str


class NotFound(ArchivoError):
    """What was asked for does not exist (the web answers 404)."""


class UnknownInput(NotFound):
    """Something named in a form or a request body (a unit, a courier, an archive number)
    does not exist: a mistake to correct where it was typed (web: same page, API: 422),
    not a missing page."""


class UnknownUnit(UnknownInput):
    """A regional unit that does not exist; each caller points at its own list of units."""


def dispatch_number(text: str) -> str | None:
    """"env-2026-12" -> "ENV-2026-000012"; None when the text holds no dispatch number."""
    m = _DISPATCH.search(text.strip())
    return f"ENV-{m.group(1)}-{int(m.group(2)):06d}" if m else None


def archive_number(text: str) -> str | None:
    """The archive number typed or scanned from a label ("ARC-2026-12", a URL ending in it, ...)."""
    m = _ARCHIVE.search(text.strip())
    return f"ARC-{m.group(1)}-{int(m.group(2)):06d}" if m else None


def label_code(text: str) -> str:
    code = " ".join(text.split()).upper().replace(" ", "-")
    if not _LABEL.match(code):
        raise ArchivoError(f"«{text}» no es un código de etiqueta válido: use letras, dígitos, "
                           "punto, guion o barra (hasta 60 caracteres), por ejemplo CAJA-0042.")
    return code


def find_dispatch(session: Session, actor: Actor, ref: DispatchRef, *,
                  for_update: bool = False) -> Dispatch:
    """By id (int or digits) or number; ``for_update`` locks the row on PostgreSQL.

    A dispatch the person may not see (another unit's, for a regional user) is
    answered exactly as one that does not exist, so its id and number cannot
    be probed.
    """
    query = select(Dispatch)
    if isinstance(ref, int) or str(ref).strip().isdigit():
        query = query.where(Dispatch.id == int(ref))
    else:
        number = dispatch_number(str(ref))
        if number is None:
            raise NotFound(f"«{ref}» no es un número de despacho (por ejemplo ENV-2026-000123).")
        query = query.where(Dispatch.number == number)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None or not can_view(actor, DispatchScope(found.regional_unit_id,
                                                          found.is_return)):
        raise NotFound(f"No existe el despacho {ref}.")
    return found


def find_document(session: Session, *, archive_ref: str | None = None,
                  document_id: int | None = None,
                  visible: Callable[[Document], bool] | None = None) -> Document:
    """By id or archive number. A document ``visible`` refuses is answered exactly as a
    missing one (same error, same words), so ids cannot be enumerated."""
    if document_id is not None:
        doc = session.get(Document, document_id)
        if doc is None or (visible is not None and not visible(doc)):
            raise UnknownInput(f"No existe el documento {document_id}.")
        return doc
    number = archive_number(archive_ref or "")
    if number is None:
        raise ArchivoError(f"«{archive_ref}» no es un número de archivo (por ejemplo "
                           "ARC-2026-000123).")
    doc = session.scalar(select(Document).where(Document.archive_number == number))
    if doc is None or (visible is not None and not visible(doc)):
        raise UnknownInput(f"No existe el documento {number} en el archivo.")
    return doc


def find_unit(session: Session, ref: str | int) -> RegionalUnit:
    """By id (int or digits), code ("SUR") or exact name ("Regional Sur"), case-insensitively."""
    if isinstance(ref, int) or str(ref).strip().isdigit():
        unit = session.get(RegionalUnit, int(ref))
    else:
        text = " ".join(str(ref).split())
        unit = session.scalar(select(RegionalUnit).where(RegionalUnit.code == text.upper()))
        if unit is None:
            units = session.scalars(select(RegionalUnit)).all()
            unit = next((u for u in units if u.name.lower() == text.lower()), None)
    if unit is None:
        raise UnknownUnit(f"No existe la unidad regional «{ref}».")
    return unit


def parse_state(text: str) -> DispatchState:
    """A state by code or label ("recibido con observaciones"), refused in Spanish."""
    try:
        return DispatchState.parse(text)  # type: ignore[return-value]
    except ValueError as exc:
        raise ArchivoError(f"Estado de despacho inválido: {exc}") from None
