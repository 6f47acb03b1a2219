"""Dispatch pages: the whole trip through the browser forms, and who may do what."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from archive.db import session_scope
from archive.services import Services
from archive.users import create_user
from dispatch.models import Dispatch
from tests.registry_helpers import add_document
from tests.web_support import PASSWORD, sign_in


def _dispatch_id(services: Services) -> int:
    with session_scope(services.sessions) as db:
        return db.scalars(select(Dispatch.id).order_by(Dispatch.id.desc())).first()


def test_create_prepare_send_receive(app: Flask, services: Services, client_as) -> None:  # type: ignore[no-untyped-def]
    add_document(services, 41, ["1234567"])
    desk, token = client_as("despacho")
    post = lambda url, **data: desk.post(url, data={"csrf_token": token, **data})  # noqa: E731

    res = post("/despachos/configuracion/transportistas", nombre="Encomiendas Rápidas")
    assert res.status_code == 302
    assert post("/despachos", destino="SUR", notas="croquis pedidos").status_code == 302
    did = _dispatch_id(services)
    page = desk.get(f"/despachos/{did}").get_data(as_text=True)
    assert "Borrador" in page and "Regional Sur" in page

    post(f"/despachos/{did}/items", clase="documento", referencia="ARC-2026-000041")
    post(f"/despachos/{did}/items", clase="texto", descripcion="antecedentes", fojas="12")
    again = post(f"/despachos/{did}/items", clase="documento", referencia="ARC-2026-000041")
    assert "ya está en el despacho" in desk.get(again.headers["Location"]).get_data(as_text=True)
    bad = post(f"/despachos/{did}/enviar", transportista="Encomiendas Rápidas", guia="G-1")
    refusal = desk.get(bad.headers["Location"]).get_data(as_text=True)
    assert "No se puede enviar" in refusal and "solo se puede preparar" in refusal

    post(f"/despachos/{did}/preparar")
    pdf = desk.get(f"/despachos/{did}/manifiesto.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    post(f"/despachos/{did}/enviar", transportista="Encomiendas Rápidas", guia="G-777")
    page = desk.get(f"/despachos/{did}").get_data(as_text=True)
    assert "Enviado" in page and "G-777" in page
    doc_page = desk.get("/documentos/1").get_data(as_text=True)
    assert "en tránsito a Regional Sur" in doc_page and "ENV-" in doc_page

    # the despacho desk cannot confirm the receipt of an outbound dispatch
    assert desk.post(f"/despachos/{did}/recepcion", data={"csrf_token": token}).status_code == 403

    with session_scope(services.sessions) as db:
        create_user(db, "u_centro", "regional", password=PASSWORD, regional_code="CEN")
    other = app.test_client()
    other_token = sign_in(other, "u_centro")
    # another unit's dispatch is answered as a missing one
    assert other.get(f"/despachos/{did}").status_code == 404
    assert other.post(f"/despachos/{did}/recepcion",
                      data={"csrf_token": other_token}).status_code == 404
    assert f"/despachos/{did}\"" not in other.get("/despachos").get_data(as_text=True)

    sur, sur_token = client_as("regional")
    form = sur.get(f"/despachos/{did}/recepcion").get_data(as_text=True)
    item_ids = re.findall(r'name="resultado_(\d+)"', form)
    assert len(item_ids) == 2
    res = sur.post(f"/despachos/{did}/recepcion", data={
        "csrf_token": sur_token, f"resultado_{item_ids[1]}": "danado",
        f"nota_{item_ids[1]}": "llegó mojado"})
    assert res.status_code == 302
    page = sur.get(f"/despachos/{did}").get_data(as_text=True)
    assert "Recibido con observaciones" in page and "llegó mojado" in page
    assert "en Regional Sur desde" in desk.get("/documentos/1").get_data(as_text=True)

    listing = desk.get("/despachos").get_data(as_text=True)
    assert "Observaciones de recepción sin resolver" in listing
    post(f"/despachos/{did}/items/{item_ids[1]}/resolver", nota="se pidió copia")
    assert "Observaciones de recepción" not in desk.get("/despachos").get_data(as_text=True)

    csv = desk.get("/despachos/informe?formato=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "Regional Sur" in csv.get_data(as_text=True) or "SUR" in csv.get_data(as_text=True)


def test_readers_cannot_change_dispatches(services: Services, client_as) -> None:  # type: ignore[no-untyped-def]
    desk, token = client_as("despacho")
    desk.post("/despachos", data={"csrf_token": token, "destino": "SUR"})
    did = _dispatch_id(services)
    reader, reader_token = client_as("consulta")
    assert reader.get(f"/despachos/{did}").status_code == 200
    page = reader.get(f"/despachos/{did}").get_data(as_text=True)
    assert "Agregar ítem" not in page and "Nuevo despacho" not in reader.get(
        "/despachos").get_data(as_text=True)
    for action in ("preparar", "anular", "items"):
        res = reader.post(f"/despachos/{did}/{action}", data={"csrf_token": reader_token})
        assert res.status_code == 403, action


def test_annul_needs_a_reason_and_unknown_dispatch_is_404(services: Services, client_as) -> None:  # type: ignore[no-untyped-def]
    desk, token = client_as("despacho")
    desk.post("/despachos", data={"csrf_token": token, "destino": "EST"})
    did = _dispatch_id(services)
    res = desk.post(f"/despachos/{did}/anular", data={"csrf_token": token, "motivo": " "})
    assert "motivo" in desk.get(res.headers["Location"]).get_data(as_text=True)
    desk.post(f"/despachos/{did}/anular", data={"csrf_token": token, "motivo": "error de carga"})
    assert "Anulado" in desk.get(f"/despachos/{did}").get_data(as_text=True)
    missing = desk.get("/despachos/99999")
    assert missing.status_code == 404
