"""Careless or hostile input answers 4xx in Spanish, never 500, on SQLite and PostgreSQL.

* A number too large for a database INTEGER in any ``<int:...>`` address
  (SQLite: OverflowError past 2^63; PostgreSQL: out of range past 2^31).
* A signed object link whose key the store refuses (``..``).
* Control characters (a NUL breaks PostgreSQL) in titles, file numbers and notes.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.db import session_scope
from archive.accounts import create_token
from archive.models import Document
from archive.storage.signing import signed_url
from archive.users import User
from archivo_cli.bootstrap import initialize
from ingest.accept import accept_stream
from ingest.process import process_document
from tests import scans
from tests.conftest import make_services
from tests.web_support import ROLE_USERS, add_users, sign_in
from web import create_app

HUGE = ["2147483648", "9223372036854775808", "1180591620717411303424", "9" * 5000]


class Arc:
    def __init__(self, app: Flask, doc_id: int, token: str) -> None:
        self.app, self.doc_id, self.token = app, doc_id, token

    def admin(self) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        return client, sign_in(client, ROLE_USERS["admin"])

    def api(self, method: str, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.app.test_client().open(url, method=method,
                                           headers={"Authorization": f"Bearer {self.token}"}, **kw)


@pytest.fixture
def arc(db_url: str, tmp_path: Path) -> Iterator[Arc]:
    """The web app on SQLite and on PostgreSQL with one processed document."""
    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    initialize(svc)
    add_users(svc)
    pdf = scans.born_digital_pdf(tmp_path / "contrato.pdf", ["Contrato de suministro"])
    with pdf.open("rb") as fh:
        acc = accept_stream(svc, fh, pdf.name, actor="prueba", enqueue=False)
    process_document(svc, acc.document_id)
    with session_scope(svc.sessions) as db:
        user = db.scalar(select(User).where(User.username == ROLE_USERS["archivista"]))
        _, token = create_token(db, user, "pruebas", actor="prueba")
    app = create_app(svc)
    app.config["TESTING"] = True
    yield Arc(app, acc.document_id, token)
    svc.dispose()


def _int_routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(rule, method, int argument names) of every route with an integer in its address."""
    out = []
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items()  # noqa: SLF001
                if type(conv).__name__.lower().startswith(("bounded", "integer"))]
        if ints:
            method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            out.append((rule.rule, method, ints))
    return out


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values.get(m.group(1), "1234567"), rule)


def test_huge_ids_in_every_web_and_api_address_are_404(arc: Arc) -> None:
    client, csrf = arc.admin()
    routes = _int_routes(arc.app)
    assert len(routes) > 30  # the whole web and API, not a sample
    failures = []
    for rule, method, ints in routes:
        for huge in HUGE:
            for name in ints:  # one argument huge at a time, the others a real id
                values = {other: str(arc.doc_id) for other in ints} | {name: huge}
                url = _url(rule, values)
                if method == "GET":
                    res = client.get(url)
                elif url.startswith("/api/"):
                    res = arc.api(method, url, json={})
                else:
                    res = client.open(url, method=method, data={"csrf_token": csrf})
                if res.status_code != 404:
                    failures.append(f"{method} {url[:80]} {res.status_code}")
    assert failures == [], "\n".join(failures)


def test_document_page_with_the_reported_id_is_a_spanish_404(arc: Arc) -> None:
    client, _ = arc.admin()
    res = client.get("/documentos/1180591620717411303424")
    assert res.status_code == 404 and "no existe" in res.get_data(as_text=True).lower()
    assert client.get(f"/documentos/{arc.doc_id}").status_code == 200  # real ids still work
    api = arc.api("GET", "/api/v1/documents/2147483648")
    assert api.status_code == 404 and api.is_json


def test_signed_link_to_a_key_outside_the_store_is_404(arc: Arc) -> None:
    svc = arc.app.extensions["archivo"]
    for key in ("../archivo.db", "originales/../../archivo.db", "tmp/./x"):
        url = signed_url("", svc.secret_key, key, timedelta(minutes=5))
        res = arc.app.test_client().get(url)
        assert res.status_code == 404, (key, res.status_code)
        assert "no existe" in res.get_data(as_text=True)


@pytest.mark.parametrize("field", ["titulo", "expediente", "ot"])
@pytest.mark.parametrize("bad", ["Contrato\x00", "Contrato\x1b[31m", "linea\nnueva"])
def test_control_characters_in_a_patch_are_422(arc: Arc, field: str, bad: str) -> None:
    res = arc.api("PATCH", f"/api/v1/documents/{arc.doc_id}", json={field: bad})
    assert res.status_code == 422, res.get_data(as_text=True)
    assert "caracteres de control" in res.get_json()["mensaje"]
    ok = arc.api("PATCH", f"/api/v1/documents/{arc.doc_id}", json={field: "Sin problemas"})
    assert ok.status_code == 200, ok.get_data(as_text=True)


@pytest.mark.parametrize("field", ["titulo", "expediente", "ot"])
def test_a_nul_in_the_edit_form_is_refused_and_nothing_changes(arc: Arc, field: str) -> None:
    client, csrf = arc.admin()
    res = client.post(f"/documentos/{arc.doc_id}/editar",
                      data={"csrf_token": csrf, field: "Título\x00 con nulo"})
    body = res.get_data(as_text=True)
    assert res.status_code in (400, 422) and "caracteres de control" in body
    svc = arc.app.extensions["archivo"]
    with session_scope(svc.sessions) as db:
        doc = db.get(Document, arc.doc_id)
        assert doc is not None and "\x00" not in (doc.title + (doc.expediente or "")
                                                  + (doc.ot_number or ""))


def test_control_characters_in_upload_notes_are_422(arc: Arc) -> None:
    up = arc.api("POST", "/api/v1/documents", data={
        "archivo": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "nota.pdf"), "notas": "recibido\x00hoy"},
        content_type="multipart/form-data")
    assert up.status_code == 422 and "caracteres de control" in up.get_json()["mensaje"]
    multi = arc.api("POST", "/api/v1/documents", data={
        "archivo": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "nota.pdf"), "notas": "línea 1\nlínea 2"},
        content_type="multipart/form-data")
    assert multi.status_code == 202, multi.get_data(as_text=True)  # newlines are fine in notes


# ------------------------------------------------------------------ schemathesis on PostgreSQL
# The OpenAPI-driven run of tests/test_api_openapi.py, on PostgreSQL (where a NUL in text
# or an id past 2^31 fails in the database itself), plus the shapes generation rarely
# produces: every operation once with huge ids and NUL characters in every string.

API_EXAMPLES = 5


@pytest.fixture(scope="module")
def pg_api(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.api_support import make_api_archive

    archive = make_api_archive(tmp_path_factory.mktemp("api_pg"), immediate=False,
                               ARCHIVO_DATABASE_URL=pg_database)
    yield archive
    archive.services.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_api_requests_never_get_a_500_on_postgresql(pg_api: Any, mode: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode

    from tests.api_support import API

    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", pg_api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=API_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=pg_api.headers("admin"), checks=[not_a_server_error])

        run()


def _hostile(schema: dict[str, Any], spec: dict[str, Any], huge: str) -> Any:
    """A value of ``schema``'s shape with a NUL in every string and ``huge`` for integers."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _hostile(spec["components"]["schemas"][name], spec, huge)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _hostile(schema[key][0], spec, huge)
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {k: _hostile(v, spec, huge) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_hostile(schema.get("items", {}), spec, huge)]
    if kind in ("integer", "number"):
        return int(huge)
    if kind == "boolean":
        return True
    return "4992383\x00 ARC-2026-000001\x00"


@pytest.mark.postgres
@pytest.mark.parametrize("huge", ["2147483648", "1180591620717411303424"])
def test_every_api_operation_with_huge_ids_and_nul_strings_on_postgresql(pg_api: Any,
                                                                         huge: str) -> None:
    from tests.api_support import API

    spec = pg_api.client().get(f"{API}/openapi.json").get_json()
    failures, tried = [], 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = op.get("parameters", []) + item.get("parameters", [])
            values = {p["name"]: _hostile(p.get("schema", {}), spec, huge) for p in params}
            url = API + re.sub(r"\{([a-z_]+)\}", lambda m: str(values.pop(m.group(1), huge)), path)
            query = {k: str(v) for k, v in values.items()
                     if any(p["name"] == k and p["in"] == "query" for p in params)}
            content = op.get("requestBody", {}).get("content", {})
            kw: dict[str, Any] = {"query_string": query}
            if "application/json" in content:
                kw["json"] = _hostile(content["application/json"]["schema"], spec, huge)
            elif "multipart/form-data" in content:
                kw["data"] = {"archivo": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a\x00.pdf"),
                              "notas": "nota\x00", "tipo": "contrato\x00", "nis": "4992383\x00"}
                kw["content_type"] = "multipart/form-data"
            res = pg_api.client().open(url, method=method.upper(),
                                       headers=pg_api.headers("admin"), **kw)
            tried += 1
            if res.status_code >= 500:
                failures.append(f"{method.upper()} {url} {res.status_code}")
    assert tried >= 12 and failures == [], "\n".join(failures)
