"""``GET /regional-units``: the regional units, for filters and dispatch destinations."""

from __future__ import annotations

from flask import Response, jsonify

from archive.registry import list_regional_units

from ..security import requires
from . import bp
from .common import services


@bp.get("/regional-units")
@requires()  # reference data every signed-in role needs (regional users included)
def regional_units() -> Response:
    units = list_regional_units(services())
    return jsonify({"unidades": [{"codigo": u.code, "nombre": u.name, "ciudad": u.city,
                                  "direccion": u.address, "contacto": u.contact}
                                 for u in units]})
