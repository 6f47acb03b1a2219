"""``GET /api/v1/documents``: filters, pagination and total, local days, roles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType
from archive.models import Document, RegionalUnit, Supply
from archive.registry.models import SupplyAlias
from tests.api_support import API, ApiArchive, error_of, make_api_archive
from tests.registry_helpers import add_document

UTC = dt.timezone.utc

# number: (NIS, type, status, received at UTC). 2026-03-02 01:30 UTC is still 1 March in
# Asunción (22:30, UTC-3), the case a UTC-midnight reading of a bare date gets wrong.
DOCS = {
    1: ("4992383", DocumentType.CONTRATO, DocumentStatus.LISTO,
        dt.datetime(2026, 3, 2, 1, 30, tzinfo=UTC)),
    2: ("4992383", DocumentType.CROQUIS, DocumentStatus.REVISAR,
        dt.datetime(2026, 3, 2, 4, 0, tzinfo=UTC)),
    3: ("1234567", DocumentType.CONTRATO, DocumentStatus.LISTO,
        dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC)),
    4: ("7654321", DocumentType.CONTRATO, DocumentStatus.ERROR,
        dt.datetime(2026, 3, 4, 15, 0, tzinfo=UTC)),
    5: ("5555555", DocumentType.OTRO, DocumentStatus.LISTO,
        dt.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)),
}
REGIONAL = {"4992383": "SUR", "1234567": "SUR", "7654321": "NOR"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> ApiArchive:
    archive = make_api_archive(tmp_path_factory.mktemp("lista"), immediate=False)
    svc = archive.services
    for number, (nis, doc_type, status, received) in DOCS.items():
        doc_id = add_document(svc, number, [nis])
        with session_scope(svc.sessions) as db:
            doc = db.get(Document, doc_id)
            assert doc is not None
            doc.doc_type, doc.status, doc.received_at = doc_type, status, received
    with session_scope(svc.sessions) as db:
        units = dict(db.execute(select(RegionalUnit.code, RegionalUnit.id)).all())
        for nis, unit in REGIONAL.items():
            db.add(Supply(nis=nis, holder_name="Titular", regional_unit_id=units[unit]))
        # A renumbered supply: its old number still finds the documents.
        db.add(SupplyAlias(old_nis="9999999", nis="5555555", kind="renumerado"))
    return archive


def _list(api: ApiArchive, query: str = "", role: str = "consulta"):  # type: ignore[no-untyped-def]
    return api.client().get(f"{API}/documents?{query}", headers=api.headers(role))


def _numbers(api: ApiArchive, query: str) -> list[int]:
    res = _list(api, query)
    assert res.status_code == 200, res.get_data(as_text=True)
    return [int(d["numero"][-6:]) for d in res.get_json()["documentos"]]


def test_lists_newest_first_with_total_and_pages(api: ApiArchive) -> None:
    body = _list(api, "por_pagina=2").get_json()
    assert (body["total"], body["pagina"], body["por_pagina"], body["paginas"]) == (5, 1, 2, 3)
    assert [d["numero"] for d in body["documentos"]] == ["ARC-2026-000005", "ARC-2026-000004"]
    last = _list(api, "por_pagina=2&pagina=3").get_json()
    assert [d["numero"] for d in last["documentos"]] == ["ARC-2026-000001"]
    assert _list(api, "por_pagina=2&pagina=9").get_json()["documentos"] == []
    one = body["documentos"][0]
    # The document serializer of GET /documents/{id}, page texts left out.
    assert one["url"].endswith(f"{API}/documents/{one['id']}") and one["nis"] == ["5555555"]
    assert one["recibido"] == "2026-03-05T12:00:00-03:00"


@pytest.mark.parametrize(("query", "expected"), [
    ("nis=4992383", [2, 1]),
    ("nis=4.992.383,1234567", [3, 2, 1]),
    ("nis=9999999", [5]),  # the old number of a renumbered supply still finds its documents
    ("tipo=contrato", [4, 3, 1]),
    ("tipo=contrato&tipo=croquis&estado=listo", [3, 1]),
    ("estado=Para revisar", [2]),
    ("regional=SUR", [3, 2, 1]),
    ("regional=sur,NOR&estado=error", [4]),
    ("regional=Regional Sur", [3, 2, 1]),
    ("desde=2026-03-02", [5, 4, 3, 2]),  # no. 1 arrived on 1 March, Asunción time
    ("hasta=2026-03-01", [1]),
    ("desde=2026-03-02&hasta=2026-03-03", [3, 2]),
    ("desde=2026-03-03T12:00:00-03:00", [5, 4, 3]),
    ("hasta=2026-03-02T01:30:00Z", [1]),
    ("desde=2026-03-03T12:00:00+00:00", [5, 4, 3]),
])
def test_filters(api: ApiArchive, query: str, expected: list[int]) -> None:
    assert _numbers(api, query) == expected
    assert _list(api, query).get_json()["total"] == len(expected)


@pytest.mark.parametrize(("query", "says"), [
    ("tipo=factura", "«tipo»"),
    ("estado=perdido", "«estado»"),
    ("regional=XYZ", "/api/v1/regional-units"),
    ("desde=ayer", "AAAA-MM-DD"),
    ("desde=2026-03-05&hasta=2026-03-01", "anterior"),
    ("nis=12", "«nis»"),
    ("pagina=0", "«pagina»"),
    ("por_pagina=500", "«por_pagina»"),
])
def test_bad_filters_are_a_spanish_400(api: ApiArchive, query: str, says: str) -> None:
    res = _list(api, query)
    assert res.status_code == 400
    code, message = error_of(res)
    assert code == "solicitud_invalida" and says in message


def test_roles_are_those_of_one_document(api: ApiArchive) -> None:
    for role in ("consulta", "archivista", "despacho", "admin"):
        assert _list(api, role=role).status_code == 200, role
    assert _list(api, role="regional").status_code == 403
    assert api.client().get(f"{API}/documents").status_code == 401
