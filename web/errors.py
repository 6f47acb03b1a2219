"""One error shape per audience: JSON ``{"error", "mensaje"}`` for the API, a page for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from archive.errors import ArchivoError

from .security import is_api_request

log = logging.getLogger(__name__)

# Error code and default Spanish message per status.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("solicitud_invalida", "La solicitud no es válida."),
    401: ("no_autenticado", "Debe iniciar sesión o enviar un token de acceso."),
    403: ("prohibido", "Su rol no tiene permiso para esta acción."),
    404: ("no_encontrado", "Lo que busca no existe."),
    405: ("metodo_no_permitido", "Este método no está permitido aquí."),
    409: ("conflicto", "La operación choca con el estado actual."),
    # Also a form or body past Flask's limits, not only a file: uploads say their own size.
    413: ("demasiado_grande", "La solicitud supera el tamaño máximo permitido."),
    415: ("tipo_no_soportado", "El tipo de archivo no está soportado."),
    422: ("datos_invalidos", "Los datos enviados no son válidos."),
    429: ("demasiados_intentos", "Demasiados intentos; espere unos minutos."),
    500: ("error_interno", "Ocurrió un error interno; el equipo de sistemas fue avisado."),
    503: ("no_disponible", "El servicio no está disponible en este momento; intente más tarde."),
}


def error_response(status: int, message: str | None = None, code: str | None = None) -> Response:
    default_code, default_message = MESSAGES.get(status, ("error", "Ocurrió un error."))
    code, message = code or default_code, message or default_message
    if is_api_request():
        resp = jsonify(error=code, mensaje=message)
    else:
        resp = Response(render_template("error.html", status=status, message=message),
                        mimetype="text/html")
    resp.status_code = status
    return resp


def _description(exc: HTTPException) -> str | None:
    """Our own aborts carry a Spanish description; werkzeug's English defaults do not count."""
    default = type(exc).description
    return exc.description if exc.description and exc.description != default else None


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if isinstance(exc, InternalServerError):
            return error_response(500)
        resp = error_response(exc.code or 500, _description(exc),
                              getattr(exc, "archivo_code", None))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return resp

    @app.errorhandler(ArchivoError)
    def archivo_error(exc: ArchivoError) -> Response:
        return error_response(422, str(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("error no previsto en %s", type(exc).__name__)
        return error_response(500)
