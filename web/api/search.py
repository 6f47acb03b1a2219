"""``GET /search``: ``search.query.search`` with its Spanish query language and filters.

The free text ``q`` takes the same syntax as the search box (``nis:``,
``tipo:``, ``fecha:2020..2024``, quotes, ``-excluir``); the other parameters
are filters added to it. A malformed query is a 400 ``consulta_invalida``
with the parser's Spanish explanation.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from archive.enums import Role
from search import MAX_PER_PAGE, SORTS
from search import search as run_search

from ..security import requires
from . import bp
from .common import bool_arg, int_arg, services, split_values
from .document_json import document_url, page_urls
from .errors import QUERY_INVALID, fail

MAX_QUERY = 1000
LIST_FILTERS = ("nis", "tipo", "regional")


def _filters() -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for key in LIST_FILTERS:
        values = split_values(request.args.getlist(key))
        if values:
            filters[key] = values
    since = (request.args.get("desde") or "").strip()
    until = (request.args.get("hasta") or "").strip()
    if since or until:
        if ".." in since or ".." in until:
            fail(400, "«desde» y «hasta» son fechas sueltas (2023, 2023-05 o 2023-05-15).",
                 QUERY_INVALID)
        filters["fecha"] = f"{since}..{until}"
    return filters


@bp.get("/search")
@requires(Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
def search_documents() -> Response:
    text = request.args.get("q", "")
    if len(text) > MAX_QUERY:
        fail(400, f"La consulta no puede tener más de {MAX_QUERY} caracteres.", QUERY_INVALID)
    sort = request.args.get("orden", "relevancia").strip() or "relevancia"
    if sort not in SORTS:
        fail(400, f"Orden «{sort}» desconocido: use {' o '.join(SORTS)}.", QUERY_INVALID)
    found = run_search(
        services(), text,
        page=int_arg("pagina", 1, code=QUERY_INVALID),
        per_page=int_arg("por_pagina", 20, maximum=MAX_PER_PAGE, code=QUERY_INVALID),
        sort=sort, filters=_filters(), fuzzy=bool_arg("aproximada"),
        boxes=bool_arg("cajas"))
    body = found.as_dict()
    for hit in body["resultados"]:
        hit["url"] = document_url(hit["documento_id"])
        hit["miniatura_url"] = (page_urls(hit["documento_id"], hit["pagina"])["miniatura_url"]
                                if hit["pagina"] else None)
    return jsonify(body)
