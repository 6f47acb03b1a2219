"""The JSON HTTP API under ``/api/v1``: one module per resource, one error shape.

Authentication and roles are checked by ``web.security`` before any view runs
(``Authorization: Bearer <token>``, or a browser session plus ``X-CSRFToken``
for unsafe methods). The OpenAPI 3.1 document is built in ``openapi.py`` and
served at ``/api/v1/openapi.json``; a test keeps it in step with the routes.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules register their views on ``bp`` when imported, so they come after it.
from . import documents, search, supplies, regional, openapi, dispatches  # noqa: E402, F401
from .errors import register_error_handlers  # noqa: E402 - after the routes, same blueprint

register_error_handlers(bp)

__all__ = ["bp"]
