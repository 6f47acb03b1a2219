"""The physical archive: an archivist registers a shelf location and a folder kept there."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import LiveArchive, OpenAs, save_shot

PLACE = "Depósito Central"
FOLDER_NIS = "4992383"


def test_archivist_creates_a_location_and_a_folder_in_it(
        live: LiveArchive, open_as: OpenAs) -> None:
    live.register("1000001", [])  # a registry exists (whatever ran before), without 4992383
    page = open_as("archivista")
    page.goto(live.path("physical.index"))
    expect(page.get_by_role("heading", name="Archivo físico", level=1)).to_be_visible()

    place_form = page.locator("#nueva-ubicacion")
    place_form.get_by_label("Nombre").fill(PLACE)
    place_form.get_by_role("button", name="Crear ubicación").click()
    expect(page.get_by_role("status")).to_contain_text("Se creó")
    expect(page.get_by_role("heading", level=1)).to_contain_text(PLACE)

    page.goto(live.path("physical.index"))
    folder_form = page.locator("#nueva-carpeta")
    folder_form.get_by_label("NIS").fill(FOLDER_NIS)
    folder_form.get_by_label("Descripción").fill("Contrato y antecedentes")
    location = folder_form.get_by_label("Ubicación")
    location.select_option(label=location.locator("option", has_text=PLACE).inner_text())
    folder_form.get_by_role("button", name="Crear carpeta").click()
    # 4992383 is not in this archive's registry: the form asks once, keeping what was typed.
    expect(page.get_by_role("alert")).to_contain_text("El NIS 4992383 no figura en el padrón")
    page.get_by_label("Revisé el número").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_contain_text("Se creó la carpeta")
    expect(page.locator("#ubicacion")).to_contain_text(PLACE)
    expect(page.locator(".ficha")).to_contain_text(FOLDER_NIS)
    code = page.locator("h1 .codigo").inner_text().strip()
    assert code, "la carpeta nueva no muestra su código"

    # The "go to code" box (where a scanned label lands) opens the same folder.
    page.goto(live.path("physical.index"))
    expect(page.locator("#arbol")).to_contain_text(PLACE)
    page.get_by_label("Código de caja o carpeta").fill(code)
    page.get_by_role("button", name="Abrir").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    # A keyboard-wedge barcode reader types the label's code and Enter into the search box.
    page.goto(live.path("search_pages.search"))
    page.locator("#q").press_sequentially(code)
    page.locator("#q").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    expect(page.locator(".ficha")).to_contain_text(FOLDER_NIS)

    page.goto(live.path("physical.index"))
    save_shot(page, "archivo-fisico")
