"""Bounded inputs: JSON bodies have their own small limit, nesting and list lengths are
capped, and a long NIS list is refused or linked in bounded work (issue 15)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import event, func, select

from archive import editing
from archive.db import session_scope
from archive.enums import DocumentStatus, LinkSource, Role
from archive.errors import ArchivoError
from archive.models import AuditEvent, Document, DocumentSupply
from archive.nis import MAX_NIS, normalize_nis_list
from archive.services import Services
from dispatch.couriers import add_courier
from dispatch.permissions import Actor
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import add_document
from tests.web_support import app, client_as  # noqa: F401 - fixtures
from web.api.common import MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_JSON_ITEMS

BODY_WORDS = "El cuerpo de la solicitud supera 1 MB"


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, n: int | None = -1) -> bytes:
        chunk = super().read(n)
        self.consumed += len(chunk)
        return chunk

    def readline(self, n: int | None = -1) -> bytes:
        chunk = super().readline(n)
        self.consumed += len(chunk)
        return chunk


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiArchive]:
    archive = make_api_archive(tmp_path, immediate=False)
    add_courier(archive.services, Actor("t", Role.DESPACHO), "Encomiendas Rápidas")
    yield archive
    archive.services.dispose()


def _ready_document(svc: Services, number: int, nis: list[str]) -> int:
    doc_id = add_document(svc, number, nis)
    with session_scope(svc.sessions) as s:
        s.get(Document, doc_id).status = DocumentStatus.LISTO
    return doc_id


def _link_events(svc: Services) -> list[AuditEvent]:
    with session_scope(svc.sessions) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("documento.%"))
                              .order_by(AuditEvent.id)))


def _links(svc: Services, doc_id: int) -> list[str]:
    with session_scope(svc.sessions) as s:
        return sorted(s.scalars(select(DocumentSupply.nis)
                                .where(DocumentSupply.document_id == doc_id)))


def _nis(count: int) -> list[str]:
    return [str(1_000_000 + i) for i in range(count)]


# ----------------------------------------------------------------------------- body size

@pytest.mark.parametrize("method,path", [("patch", "documents/{doc}"), ("post", "dispatches")])
def test_an_announced_body_over_1_mb_is_refused_before_it_is_read(
        api: ApiArchive, method: str, path: str) -> None:
    doc = _ready_document(api.services, 1, ["1234567"])
    body = json.dumps({"notas": "x" * (3 * MAX_JSON_BYTES)}).encode()
    stream = CountingStream(body)
    res = api.client().open(f"{API}/{path.format(doc=doc)}", method=method.upper(),
                            input_stream=stream, content_length=len(body),
                            content_type="application/json",
                            headers=api.headers("archivista" if method == "patch" else "despacho"))
    assert res.status_code == 413
    code, message = error_of(res)
    assert code == "cuerpo_demasiado_grande"
    assert message.startswith(BODY_WORDS) and "archivo supera" not in message
    assert stream.consumed == 0


def test_a_chunked_body_is_read_only_up_to_the_limit(api: ApiArchive) -> None:
    stream = CountingStream(json.dumps({"destino": "SUR", "notas": "x" * (5 * MAX_JSON_BYTES)})
                            .encode())
    res = api.client().post(f"{API}/dispatches", input_stream=stream,
                            content_type="application/json",
                            headers={**api.headers("despacho"), "Transfer-Encoding": "chunked"},
                            environ_overrides={"wsgi.input_terminated": True})
    assert res.status_code == 413
    assert error_of(res)[0] == "cuerpo_demasiado_grande"
    assert stream.consumed <= MAX_JSON_BYTES + 1


def test_a_body_under_the_limit_meets_the_field_rules_not_the_size_rule(api: ApiArchive) -> None:
    doc = _ready_document(api.services, 2, [])
    res = api.client().patch(f"{API}/documents/{doc}", json={"titulo": "t" * 500_000},
                             headers=api.headers("archivista"))
    assert res.status_code == 422
    assert "300 caracteres" in error_of(res)[1]
    fine = api.client().post(f"{API}/dispatches", json={"destino": "SUR", "notas": "croquis"},
                             headers=api.headers("despacho"))
    assert fine.status_code == 201, fine.get_json()


# ----------------------------------------------------------------------------- nesting

def _nested(levels: int) -> bytes:
    return b'{"nis": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_refused_in_spanish_on_patch_and_dispatch(api: ApiArchive,
                                                                 levels: int) -> None:
    doc = _ready_document(api.services, 3, ["1234567"])
    for method, url, role in (("PATCH", f"{API}/documents/{doc}", "archivista"),
                              ("POST", f"{API}/dispatches", "despacho"),
                              ("POST", f"{API}/dispatches/1/recibir", "despacho")):
        res = api.client().open(url, method=method, data=_nested(levels),
                                content_type="application/json", headers=api.headers(role))
        assert res.status_code == 422, (url, res.status_code)
        code, message = error_of(res)
        assert code == "datos_invalidos"
        assert f"demasiados niveles anidados: se admiten hasta {MAX_JSON_DEPTH}" in message
    assert _links(api.services, doc) == ["1234567"]


def test_ordinary_nesting_still_parses(api: ApiArchive) -> None:
    """A receipt list of objects is three levels deep: well within the cap."""
    res = api.client().post(f"{API}/dispatches/999/recibir",
                            json={"items": [{"item": 1, "resultado": "recibido"}]},
                            headers=api.headers("despacho"))
    assert res.status_code == 404  # reached the domain: the dispatch does not exist


# ----------------------------------------------------------------------------- list lengths

def test_a_thousand_nis_are_refused_with_the_cap_and_nothing_changes(api: ApiArchive) -> None:
    doc = _ready_document(api.services, 4, ["1234567"])
    before = len(_link_events(api.services))
    res = api.client().patch(f"{API}/documents/{doc}", json={"nis": _nis(1000)},
                             headers=api.headers("archivista"))
    assert res.status_code == 422
    code, message = error_of(res)
    assert code == "datos_invalidos"
    assert f"se admiten hasta {MAX_NIS} por documento" in message and "1000 NIS" in message
    assert _links(api.services, doc) == ["1234567"]
    assert len(_link_events(api.services)) == before


def test_upload_form_nis_list_is_capped_too(api: ApiArchive) -> None:
    res = api.upload("archivista", b"%PDF-1.4\n", "a.pdf", nis=",".join(_nis(MAX_NIS + 1)))
    assert res.status_code == 422
    assert f"se admiten hasta {MAX_NIS}" in error_of(res)[1]


def test_fifty_nis_are_linked_with_one_audit_event(api: ApiArchive) -> None:
    doc = _ready_document(api.services, 5, [])
    wanted = _nis(MAX_NIS)
    res = api.client().patch(f"{API}/documents/{doc}", json={"nis": wanted},
                             headers=api.headers("archivista"))
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["nis"] == wanted
    events = _link_events(api.services)
    assert [e.action for e in events] == ["documento.vincular"]
    assert events[0].details["nis"] == wanted


def test_a_long_json_list_is_refused_naming_the_field(api: ApiArchive) -> None:
    items = [{"item": i} for i in range(MAX_JSON_ITEMS + 1)]
    res = api.client().post(f"{API}/dispatches/1/recibir", json={"items": items},
                            headers=api.headers("despacho"))
    assert res.status_code == 422
    assert error_of(res)[1] == (f"La lista «items» tiene {MAX_JSON_ITEMS + 1} elementos; "
                                f"se admiten hasta {MAX_JSON_ITEMS}.")


def test_a_query_parameter_list_is_capped(api: ApiArchive) -> None:
    res = api.client().get(f"{API}/documents", query_string={"nis": ",".join(_nis(150))},
                           headers=api.headers("archivista"))
    assert res.status_code in (400, 422)
    message = error_of(res)[1]
    assert "se admiten hasta" in message and "150" in message


def test_the_review_form_refuses_too_many_nis_with_a_message(services: Services,
                                                             client_as) -> None:  # noqa: F811
    doc = add_document(services, 6, [])
    with session_scope(services.sessions) as s:
        s.get(Document, doc).status = DocumentStatus.REVISAR
    client, token = client_as("archivista")
    res = client.post(f"/revision/{doc}/corregir", follow_redirects=True,
                      data={"nis": ", ".join(_nis(MAX_NIS + 10)), "csrf_token": token})
    assert f"se admiten hasta {MAX_NIS}" in res.get_data(as_text=True)
    assert _links(services, doc) == []


# ----------------------------------------------------------------------------- linear work

def test_normalize_counts_distinct_numbers_against_the_cap() -> None:
    assert normalize_nis_list(["1.234.567"] * 500) == ["1234567"]
    assert len(normalize_nis_list(_nis(MAX_NIS))) == MAX_NIS
    with pytest.raises(ArchivoError, match=f"{MAX_NIS + 1} NIS; se admiten hasta {MAX_NIS}"):
        normalize_nis_list(_nis(MAX_NIS + 1))


def _statements_for(svc: Services, number: int, nis: list[str],
                    ocr: dict[str, float]) -> tuple[int, Document]:
    doc_id = add_document(svc, number, [])
    with session_scope(svc.sessions) as s:
        for n, conf in ocr.items():
            s.add(DocumentSupply(document_id=doc_id, nis=n, source=LinkSource.OCR,
                                 confidence=conf, created_by="ocr"))
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    with session_scope(svc.sessions) as s:
        doc = s.get(Document, doc_id)
        doc.status = DocumentStatus.REVISAR
        _ = doc.supplies
        event.listen(svc.engine, "before_cursor_execute", counter)
        try:
            editing.set_links(s, doc, nis, actor="ana")
            s.flush()
        finally:
            event.remove(svc.engine, "before_cursor_execute", counter)
        assert doc.nis_list == sorted(nis)
    return count, doc


def test_set_links_does_the_same_number_of_queries_for_5_or_50_nis(services: Services) -> None:
    ocr = {"9000001": 0.4, "9000002": 0.9, "9000003": 0.5}
    few, _ = _statements_for(services, 10, _nis(5) + ["9000001"], ocr)
    many, _ = _statements_for(services, 11, _nis(49) + ["9000001"], ocr)
    assert many == few
    assert few < 40
    with session_scope(services.sessions) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_id == "ARC-2026-000011")
                           .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["documento.desvincular", "documento.vincular"]
        assert events[0].details == {"nis": ["9000002", "9000003"], "origen_anterior": "ocr"}
        assert events[1].details["nis"] == sorted(_nis(49) + ["9000001"])
        link = s.get(DocumentSupply, (s.scalar(select(Document.id).where(
            Document.archive_number == "ARC-2026-000011")), "9000001"))
        assert link.source is LinkSource.MANUAL and link.confidence == 1.0
        assert s.scalar(select(func.count()).select_from(DocumentSupply)) == 6 + 50


def test_the_label_sheet_refuses_more_codes_than_it_prints(services: Services,
                                                           client_as) -> None:  # noqa: F811
    from archive.physical.labels import MAX_LABELS

    client, _ = client_as("archivista")
    codes = "\n".join(f"CAJA-{i:06d}" for i in range(MAX_LABELS + 1))
    res = client.get("/fisico/etiquetas.pdf", query_string={"codigo": codes})
    assert res.status_code == 422
    assert f"hasta {MAX_LABELS} etiquetas por vez" in res.get_data(as_text=True)
