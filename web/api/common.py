"""Small request helpers shared by the API modules: services, actor, parameter parsing.

Every parser refuses with a Spanish 4xx (never lets a bad value reach the
domain as a 500), because the API is fed by other systems, not by forms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from flask import current_app, request

from archive.enums import DocumentType
from archive.errors import ArchivoError
from archive.localtime import iso_local
from archive.nis import normalize_nis_list
from archive.services import Services

from .. import services_of
from ..security import current_user
from .errors import fail


def services() -> Services:
    return services_of(current_app)


def actor() -> str:
    """The username recorded in the audit trail for this request."""
    user = current_user()
    assert user is not None  # enforce_access let no anonymous request through
    return user.username


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """The API's one timestamp format: ISO 8601 in Paraguay's time with its offset.

    Instants become ``2026-11-01T09:30:00-03:00``; a bare date stays ``2026-11-01``
    (a local calendar day); ``None`` stays ``None``.
    """
    return iso_local(value)


def split_values(raw: Iterable[str]) -> list[str]:
    """Repeated parameters and comma lists alike: ``nis=1&nis=2`` == ``nis=1,2``."""
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def parse_doc_type(raw: str) -> DocumentType:
    try:
        return DocumentType.parse(raw)  # type: ignore[return-value]
    except ValueError:
        valid = ", ".join(t.value for t in DocumentType)
        fail(422, f"«{raw}» no es un tipo de documento. Tipos válidos: {valid}.")


def parse_nis_list(values: Iterable[object]) -> list[str]:
    texts = list(values)
    if not all(isinstance(v, str) for v in texts):
        fail(422, "Cada NIS debe ser un texto con dígitos, por ejemplo \"4992383\".")
    try:
        return normalize_nis_list(texts)  # type: ignore[arg-type]
    except ArchivoError as exc:
        fail(422, str(exc))


def int_arg(name: str, default: int, *, minimum: int = 1, maximum: int | None = None,
            code: str | None = None) -> int:
    """An integer query parameter; a 400 in Spanish when it is not one or out of range."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        fail(400, f"El parámetro «{name}» debe ser un número entero.", code)
    if value < minimum or (maximum is not None and value > maximum):
        limits = f"entre {minimum} y {maximum}" if maximum is not None else f"{minimum} o mayor"
        fail(400, f"El parámetro «{name}» debe ser {limits}.", code)
    return value


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "si", "sí", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    fail(400, f"El parámetro «{name}» debe ser 1 o 0.")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object: 415 if it is not JSON, 400 if it does not parse."""
    if not request.is_json:
        fail(415, "Envíe el cuerpo como JSON (Content-Type: application/json).")
    body = request.get_json(silent=True)
    if body is None:
        fail(400, "El cuerpo no es JSON válido.")
    if not isinstance(body, dict):
        fail(422, "El cuerpo debe ser un objeto JSON, por ejemplo {\"tipo\": \"contrato\"}.")
    return body


def require_multipart() -> None:
    if request.mimetype != "multipart/form-data":
        fail(415, "Envíe el archivo como multipart/form-data (campo «archivo»).")
