"""A dispatch from the central archive to a regional unit, sent and then received there."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import LiveArchive, OpenAs, save_shot

COURIER = "Encomiendas Guaraní"
GUIDE = "G-000123"


def test_dispatch_is_sent_and_the_regional_unit_confirms_receipt(
        live: LiveArchive, open_as: OpenAs) -> None:
    doc = live.ingest(live.scan("contrato-despacho.png", seed=71, doc_type="contrato"))
    assert doc.status == "listo", doc
    clerk = open_as("despacho")

    # A courier service to choose from (the settings page of the dispatch clerk).
    clerk.goto(live.path("dispatch_pages.settings_page"))
    clerk.get_by_label("Nuevo servicio").fill(COURIER)
    clerk.get_by_role("button", name="Agregar").click()
    expect(clerk.get_by_role("status")).to_contain_text("Servicio de encomiendas agregado.")

    # New dispatch to Regional Sur with the archived document in it.
    clerk.goto(live.path("dispatch_pages.index"))
    clerk.locator("#nuevo-despacho").get_by_label("Destino").select_option("SUR")
    clerk.get_by_role("button", name="Nuevo despacho").click()
    heading = clerk.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Borrador")
    number = re.search(r"Despacho (\S+)", heading.inner_text())
    assert number, heading.inner_text()
    clerk.get_by_label("Número de archivo o código").fill(doc.archive_number)
    clerk.get_by_role("button", name="Agregar").click()
    expect(clerk.get_by_role("status")).to_contain_text("Ítem agregado.")
    items = clerk.locator("table.items tbody tr")
    expect(items.filter(has_text=doc.archive_number)).to_contain_text(doc.nis[0])
    clerk.get_by_role("button", name="Preparar (cerrar el paquete)").click()
    expect(heading).to_contain_text("Preparado")
    send = clerk.locator("#enviar")
    send.get_by_label("Transportista").select_option(COURIER)
    send.get_by_label("Número de guía").fill(GUIDE)
    send.get_by_role("button", name="Marcar como enviado").click()
    expect(clerk.get_by_role("status")).to_contain_text("Despacho enviado.")
    expect(clerk.locator(".ficha")).to_contain_text(GUIDE)
    save_shot(clerk, "despacho")
    dispatch_url = clerk.url

    # The regional unit opens the receipt page (the manifest's QR code points there).
    regional = open_as("regional")
    regional.goto(dispatch_url)
    regional.get_by_role("link", name="Confirmar recepción").click()
    expect(regional.get_by_role("heading", level=1)).to_contain_text(
        f"Recepción del despacho {number.group(1)}")
    expect(regional.get_by_label(f"Resultado de {doc.archive_number}")).to_be_visible()
    regional.get_by_role("button", name="Confirmar recepción").click()
    expect(regional.get_by_role("status")).to_contain_text("Recepción confirmada.")
    expect(regional.get_by_role("heading", level=1)).to_contain_text("Recibido")

    # Back at the centre, the list shows it received.
    clerk.goto(live.path("dispatch_pages.index"))
    row = clerk.locator("table.despachos tr").filter(has_text=number.group(1))
    expect(row.locator(".estado")).to_have_text(re.compile("Recibido"))
    expect(row).to_contain_text(COURIER)
    save_shot(clerk, "despachos")
