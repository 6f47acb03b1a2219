"""Form and JSON bodies are small unless the view takes files; forms carry no NUL."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask

from tests.web_support import ROLE_USERS, csrf_of, sign_in
from web.bodies import SMALL_BODY, bound_body


def _big_form(size: int) -> bytes:
    return b"usuario=x&contrasena=" + b"a" * size


def test_an_anonymous_oversized_sign_in_form_is_refused_before_it_is_parsed(app: Flask) -> None:
    client = app.test_client()
    res = client.post("/ingresar", data=_big_form(2 * SMALL_BODY),
                      content_type="application/x-www-form-urlencoded")
    assert res.status_code == 413
    assert "1 MB" in res.get_data(as_text=True)


def test_a_chunked_form_without_length_is_read_only_up_to_the_limit(app: Flask) -> None:
    """No Content-Length (chunked, as waitress passes it on): Werkzeug stops reading at
    the limit this module sets, so the parsed form can never exceed it."""
    body = _big_form(3 * SMALL_BODY)
    with app.test_request_context("/ingresar", method="POST", input_stream=io.BytesIO(body),
                                  content_type="application/x-www-form-urlencoded",
                                  environ_overrides={"wsgi.input_terminated": True}) as ctx:
        ctx.request.environ.pop("CONTENT_LENGTH", None)
        bound_body()
        assert ctx.request.max_content_length == SMALL_BODY
        assert sum(len(v) for v in ctx.request.form.values()) <= SMALL_BODY


def test_a_signed_in_edit_form_is_bounded(app: Flask) -> None:
    client = app.test_client()
    token = sign_in(client, ROLE_USERS["archivista"])
    res = client.post("/documentos/1/editar",
                      data={"csrf_token": token, "titulo": "x" * (2 * SMALL_BODY)})
    assert res.status_code == 413


def test_a_nul_in_a_form_is_a_spanish_400(app: Flask) -> None:
    client = app.test_client()
    token = sign_in(client, ROLE_USERS["archivista"])
    res = client.post("/documentos/1/editar", data={"csrf_token": token, "titulo": "a\x00b"})
    assert res.status_code == 400
    assert "caracteres de control" in res.get_data(as_text=True)


def test_ordinary_forms_and_line_breaks_still_pass(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/ingresar")
    res = client.post("/ingresar", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                         "usuario": "nadie", "contrasena": "linea1\nlinea2"})
    assert res.status_code in (200, 401)  # an ordinary refused sign-in, not a 400/413


def test_upload_views_keep_the_file_limit(app: Flask) -> None:
    """Views marked as taking files are exempt; everything else is not."""
    marked = sorted(name for name, view in app.view_functions.items()
                    if getattr(view, "archivo_accepts_files", False))
    assert marked == ["admin.run_import", "upload.file", "upload.submit"]  # the API bounds itself


def test_a_nul_anywhere_in_a_json_body_is_a_422_naming_the_field(tmp_path: Path) -> None:
    from tests.api_support import API, error_of, make_api_archive

    arc = make_api_archive(tmp_path)
    try:
        res = arc.client().post(f"{API}/dispatches", json={"destino": "SUR", "notas": "a\x00b"},
                                headers=arc.headers("despacho"))
        assert res.status_code == 422
        assert "«notas»" in error_of(res)[1] and "control" in error_of(res)[1]
        ok = arc.client().post(f"{API}/dispatches", json={"destino": "SUR",
                                                          "notas": "línea 1\nlínea 2\tfin"},
                               headers=arc.headers("despacho"))
        assert ok.status_code == 201, ok.get_data(as_text=True)
    finally:
        arc.services.dispose()
