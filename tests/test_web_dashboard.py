"""The dashboard: its numbers on a known set of documents, then the page per role."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from archive import audit
from archive.dashboard_stats import collect, today_start
from archive.db import session_scope
from archive.enums import DocumentStatus, Role
from archive.models import Document, utcnow
from archive.services import Services
from ingest.tasks import enqueue_processing
from tests.registry_helpers import add_document

NOW = utcnow()

ClientAs = Callable[[str], tuple[FlaskClient, str]]


def _set(services: Services, doc_id: int, **values: object) -> None:
    with session_scope(services.sessions) as db:
        db.execute(update(Document).where(Document.id == doc_id).values(**values))


def _known_archive(services: Services) -> dict[str, int]:
    """2 recibido, 1 procesando, 3 listo, 2 revisar, 3 error (one old, one rejected in review)."""
    ids = {f"d{i}": add_document(services, i, []) for i in range(1, 12)}
    _set(services, ids["d3"], status=DocumentStatus.PROCESANDO)
    for k in ("d4", "d5", "d6"):
        _set(services, ids[k], status=DocumentStatus.LISTO)
    _set(services, ids["d7"], status=DocumentStatus.REVISAR, review_reasons="sin_nis",
         received_at=NOW - dt.timedelta(days=3, hours=1))
    _set(services, ids["d8"], status=DocumentStatus.REVISAR, review_reasons="nis_desconocido",
         received_at=NOW - dt.timedelta(hours=2))
    _set(services, ids["d9"], status=DocumentStatus.ERROR, error_code="cifrado",
         error_message="El PDF está protegido con contraseña.",
         updated_at=NOW - dt.timedelta(days=2))
    _set(services, ids["d10"], status=DocumentStatus.ERROR, error_code="truncado",
         error_message="Archivo incompleto.", updated_at=NOW - dt.timedelta(days=10))
    _set(services, ids["d11"], status=DocumentStatus.ERROR, error_code="rechazado",
         error_message="Rechazado en revisión por ana: hoja en blanco", updated_at=NOW)
    with session_scope(services.sessions) as db:
        for pages in (3, 1, 2):  # three processing runs today
            audit.record(db, "sistema", "documento.procesar", "documento", "ARC-x",
                         {"estado": "listo", "paginas": pages})
    services.huey.flush()
    enqueue_processing(services, ids["d1"])
    enqueue_processing(services, ids["d2"])
    return ids


def test_numbers_on_a_known_archive(services: Services) -> None:
    ids = _known_archive(services)
    stats = collect(services, now=NOW)
    assert [(s.status, s.count) for s in stats.by_status] == [
        ("recibido", 2), ("procesando", 1), ("listo", 3), ("revisar", 2), ("error", 3)]
    assert stats.total_documents == 11
    assert stats.pages_today == 6 and stats.documents_processed_today == 3
    assert stats.queue_pending == 2
    assert stats.review.count == 2
    assert stats.review.oldest_id == ids["d7"] and stats.review.oldest_number == "ARC-2026-000007"
    assert stats.review.oldest_days == 3
    # d9 is recent; d10 is older than 7 days; d11 was a reviewer's decision, not a fault
    assert stats.errors_last_7_days == 1
    assert [(e.archive_number, e.message) for e in stats.recent_errors] == [
        ("ARC-2026-000009", "El PDF está protegido con contraseña.")]

    tomorrow = collect(services, now=NOW + dt.timedelta(days=1))
    assert tomorrow.pages_today == 0  # "today" starts at midnight in Paraguay
    assert tomorrow.count(DocumentStatus.LISTO) == 3


def test_today_starts_at_midnight_in_paraguay() -> None:
    # 02:00 UTC on 5 March is still 4 March in Asunción (UTC-3)
    moment = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.timezone.utc)
    assert today_start(moment) == dt.datetime(2026, 3, 4, 3, 0, tzinfo=dt.timezone.utc)


def test_queue_that_does_not_answer_is_not_a_zero(services: Services,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> int:
        raise ConnectionError("redis caído")

    monkeypatch.setattr(services.huey, "pending_count", broken)
    assert collect(services).queue_pending is None
    assert collect(services).index_queue_pending == 0  # the other queue still answers
    monkeypatch.setattr(services.index_huey, "pending_count", broken)
    assert collect(services).index_queue_pending is None


def test_index_queue_length_is_counted_apart(services: Services) -> None:
    from search.tasks import request_indexing

    before = collect(services)
    request_indexing(services)
    after = collect(services)
    assert after.index_queue_pending == (before.index_queue_pending or 0) + 1
    assert after.queue_pending == before.queue_pending


def _dispatch_fixture(services: Services) -> None:
    """One dispatch sent a month ago and never received; one received with a missing item."""
    from dispatch import (Actor, ItemOutcome, ItemReceipt, add_courier, add_text,
                          create_dispatch, prepare, receive, send)

    admin = Actor("admin", Role.ADMIN)
    despacho = Actor("u_despacho", Role.DESPACHO)
    add_courier(services, admin, "Correo Paraguayo")
    past = NOW - dt.timedelta(days=30)
    late = create_dispatch(services, despacho, "SUR", now=past)
    add_text(services, despacho, late.id, "antecedentes", sheets=3, now=past)
    prepare(services, despacho, late.id, now=past)
    send(services, despacho, late.id, courier="Correo Paraguayo", guide_number="G1", now=past)
    done = create_dispatch(services, despacho, "NOR", now=past)
    add_text(services, despacho, done.id, "carpeta de reclamos", sheets=10, now=past)
    prepare(services, despacho, done.id, now=past)
    send(services, despacho, done.id, courier="Correo Paraguayo", guide_number="G2", now=past)
    receive(services, admin, done.id, [ItemReceipt("carpeta de reclamos", ItemOutcome.FALTANTE)],
            now=past + dt.timedelta(days=2))


def test_page_shows_the_numbers(app: Flask, client_as: ClientAs, services: Services) -> None:
    _known_archive(services)
    _dispatch_fixture(services)
    client, _ = client_as("archivista")
    res = client.get("/tablero")
    html = res.get_data(as_text=True)
    assert res.status_code == 200
    assert 'id="t-paginas"' in html and '<p class="cifra">6</p>' in html
    revision = html.split('id="t-revision"', 1)[1].split("</section>", 1)[0]
    assert '<p class="cifra">2</p>' in revision and "ARC-2026-000007" in revision
    assert "El PDF está protegido con contraseña." in html
    atrasados = html.split('id="t-atrasados"', 1)[1].split("</section>", 1)[0]
    assert '<p class="cifra">1</p>' in atrasados and "Regional Sur" in atrasados
    discrepancias = html.split('id="t-discrepancias"', 1)[1].split("</section>", 1)[0]
    assert '<p class="cifra">1</p>' in discrepancias and "carpeta de reclamos" in discrepancias
    for role in ("despacho", "admin"):
        other, _ = client_as(role)
        assert other.get("/tablero").status_code == 200


def test_dispatch_panel_unavailable_says_so(app: Flask, client_as: ClientAs,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import dispatch

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("tabla inexistente")

    monkeypatch.setattr(dispatch, "overdue_dispatches", broken)
    client, _ = client_as("despacho")
    html = client.get("/tablero").get_data(as_text=True)
    assert 'id="despachos-no-disponible"' in html and 'id="t-atrasados"' not in html


def test_consulta_and_regional_are_refused(client_as: ClientAs) -> None:
    for role in ("consulta", "regional"):
        client, _ = client_as(role)
        assert client.get("/tablero").status_code == 403
