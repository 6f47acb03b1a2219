"""Request bodies: small unless the view takes files, and no control characters in forms.

Flask's ``MAX_CONTENT_LENGTH`` must admit a scan (hundreds of MB), and Werkzeug
parses a urlencoded form whole, whatever its size: without this, anyone, even
before signing in (the sign-in form is read for its CSRF token), could make a
process parse hundreds of MB. Every view gets ``SMALL_BODY`` unless it is
marked with :func:`accepts_files`; the limit also bounds chunked bodies.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from flask import abort, current_app, request

from archive.text_input import has_control_characters

from .security import PUBLIC, access_of

SMALL_BODY = 1024 * 1024  # forms and JSON: far above anything a person types
TOO_LARGE = ("La solicitud supera 1 MB. Un formulario no necesita más; los archivos se envían "
             "desde la página de subida.")

F = TypeVar("F", bound=Callable[..., object])


def accepts_files(view: F) -> F:
    """Mark a view that receives uploaded files: it keeps the upload size limit."""
    view.archivo_accepts_files = True  # type: ignore[attr-defined]
    return view


def bound_body() -> None:
    """``before_request``, ahead of the CSRF check (which reads the form).

    The JSON API bounds and checks its bodies itself (``web.api.common.json_object``,
    with its own error codes); public forms (sign-in) answer control characters with
    their ordinary refusal, so only the size applies to them.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if request.blueprint == "api" or (
            view is not None and getattr(view, "archivo_accepts_files", False)):
        return
    request.max_content_length = SMALL_BODY
    if request.content_length is not None and request.content_length > SMALL_BODY:
        abort(413, description=TOO_LARGE)
    if (request.mimetype == "application/x-www-form-urlencoded"
            and access_of(current_app, request.endpoint or "") != PUBLIC):
        for values in request.form.listvalues():
            if any(has_control_characters(v) for v in values):
                abort(400, description="El formulario contiene caracteres de control (por "
                                       "ejemplo NUL). Escriba solo texto y vuelva a enviarlo.")


__all__ = ["SMALL_BODY", "accepts_files", "bound_body"]
