"""Small request helpers shared by the API modules: services, actor, parameter parsing.

Every parser refuses with a Spanish 4xx (never lets a bad value reach the
domain as a 500), because the API is fed by other systems, not by forms.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

from flask import current_app, request

from archive.enums import DocumentType
from archive.errors import ArchivoError
from archive.localtime import iso_local
from archive.nis import MAX_NIS, normalize_nis_list, too_many_nis_message
from archive.services import Services
from archive.text_input import has_control_characters

from .. import services_of
from ..security import current_user
from .errors import BODY_TOO_LARGE, fail

# A JSON body carries a few fields, never a file: 1 MB is generous and keeps one request
# from taking hundreds of MB to parse (uploads have their own limit, ARCHIVO_MAX_ARCHIVO_MB).
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 20  # the deepest body of this API is 3 levels; deeper is a mistake or an attack
MAX_JSON_ITEMS = 1000  # per list in a body (NIS lists have their own, smaller cap)
MAX_VALUES = 100  # values of one repeated or comma-separated parameter
_READ_CHUNK = 64 * 1024

BODY_MESSAGE = (f"El cuerpo de la solicitud supera {MAX_JSON_BYTES // (1024 * 1024)} MB, el máximo "
                "para datos JSON; envíe menos datos (los archivos se suben aparte, con su propio "
                "límite).")
DEPTH_MESSAGE = (f"El cuerpo JSON tiene demasiados niveles anidados: se admiten hasta "
                 f"{MAX_JSON_DEPTH}.")


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


def split_values(raw: Iterable[str], name: str = "") -> list[str]:
    """Repeated parameters and comma lists alike: ``nis=1&nis=2`` == ``nis=1,2``.

    At most ``MAX_VALUES``: every value costs a lookup or a query term downstream.
    """
    values = [part.strip() for value in raw for part in str(value).split(",") if part.strip()]
    if len(values) > MAX_VALUES:
        which = f"«{name}»" if name else "un parámetro"
        fail(400, f"Se recibieron {len(values)} valores en {which}; se admiten hasta "
                  f"{MAX_VALUES}.")
    return values


def parse_doc_type(raw: str) -> DocumentType:
    try:
        return DocumentType.parse(raw)  # type: ignore[return-value]
    except ValueError:
        valid = ", ".join(t.value for t in DocumentType)
        fail(422, f"«{raw}» no es un tipo de documento. Tipos válidos: {valid}.")


def parse_nis_list(values: Iterable[object]) -> list[str]:
    texts = list(values)
    if len(texts) > MAX_NIS:  # refused before normalizing a single one
        fail(422, too_many_nis_message(len(texts)))
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
    """The request body as a JSON object: 415 if it is not JSON, 413 past ``MAX_JSON_BYTES``,
    400 if it does not parse, 422 if it is not an object or is nested or listed past the caps.

    The body is read and parsed here (not with ``request.get_json``) so that its size is
    checked before anything is parsed: Flask's own limit is the upload one.
    """
    if not request.is_json:
        fail(415, "Envíe el cuerpo como JSON (Content-Type: application/json).")
    raw = _bounded_body()
    try:
        body = json.loads(raw)
    except RecursionError:  # thousands of nested brackets exhaust the parser's stack
        fail(422, DEPTH_MESSAGE)
    except ValueError:  # also UnicodeDecodeError
        fail(400, "El cuerpo no es JSON válido.")
    _check_shape(body)
    if not isinstance(body, dict):
        fail(422, "El cuerpo debe ser un objeto JSON, por ejemplo {\"tipo\": \"contrato\"}.")
    return body


def _bounded_body() -> bytes:
    """At most ``MAX_JSON_BYTES`` of the body: by the announced size before reading, and by
    counting while reading when none is announced (chunked transfer)."""
    announced = request.content_length
    if announced is not None and announced > MAX_JSON_BYTES:
        fail(413, BODY_MESSAGE, BODY_TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_JSON_BYTES:
        chunk = request.stream.read(min(_READ_CHUNK, MAX_JSON_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_JSON_BYTES:
        fail(413, BODY_MESSAGE, BODY_TOO_LARGE)
    return b"".join(chunks)


def _check_shape(body: object) -> None:
    """Refuse nesting past ``MAX_JSON_DEPTH``, lists past ``MAX_JSON_ITEMS`` and text with
    control characters (PostgreSQL refuses a NUL in text with an error, not a 4xx).

    Walked with an explicit stack: a recursive walk would fail on the very input it guards.
    """
    stack: list[tuple[object, int, str]] = [(body, 1, "")]
    while stack:
        value, depth, key = stack.pop()
        if isinstance(value, dict):
            children: Iterable[tuple[str, object]] = ((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            if len(value) > MAX_JSON_ITEMS:
                where = f"La lista «{key}»" if key else "Una lista del cuerpo"
                fail(422, f"{where} tiene {len(value)} elementos; se admiten hasta "
                          f"{MAX_JSON_ITEMS}.")
            children = ((key, v) for v in value)
        else:
            if isinstance(value, str) and has_control_characters(value):
                where = f"El campo «{key}»" if key else "Un texto del cuerpo"
                fail(422, f"{where} contiene caracteres de control (por ejemplo NUL); "
                          "envíe solo texto.")
            continue
        if depth > MAX_JSON_DEPTH:
            fail(422, DEPTH_MESSAGE)
        stack.extend((child, depth + 1, name) for name, child in children)


def require_multipart() -> None:
    if request.mimetype != "multipart/form-data":
        fail(415, "Envíe el archivo como multipart/form-data (campo «archivo»).")
