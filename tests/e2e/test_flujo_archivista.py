"""The archivist's day in one path: upload scans, watch them reach ``listo``, find one, open it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import LiveArchive, OCR_MS, OpenAs, drop_file, save_shot

WORD = "heladera"  # printed on every sample "reclamo por artefacto eléctrico dañado"


def test_upload_wait_for_listo_search_and_see_the_hit_on_the_page(
        live: LiveArchive, open_as: OpenAs) -> None:
    claim = live.scan("reclamo-heladera.png", seed=21, doc_type="reclamo_electrodomestico")
    note = live.scan("nota-sin-nis.png", seed=22, lines=[
        "NOTA DE MESA DE ENTRADA", "",
        "Un vecino informa que el alumbrado de la calle Palma",
        "no funciona desde la semana pasada."])
    assert WORD in " ".join(claim.lines) and claim.nis
    page = open_as("archivista")

    # Upload: one file chosen in the file dialog, one dragged onto the drop zone.
    page.goto(live.path("upload.page"))
    page.locator("#archivos").set_input_files(str(claim.path))
    drop_file(page, "#zona-arrastre", note.path)
    rows = page.locator("#lista-cuerpo tr")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Subir 2 archivos").click()

    claim_row = rows.filter(has_text=claim.path.name)
    note_row = rows.filter(has_text=note.path.name)
    expect(claim_row.locator(".estado")).to_have_text("Listo", timeout=OCR_MS)
    expect(claim_row.locator(".estado")).to_have_class(re.compile(r"\blisto\b"))
    expect(claim_row).to_contain_text(f"NIS {claim.nis[0]}")
    expect(claim_row.locator("progress")).to_have_js_property("value", 100)  # sent whole
    expect(note_row.locator(".estado")).to_have_text("Para revisar", timeout=OCR_MS)
    number = claim_row.get_by_role("link").inner_text().strip()
    assert re.fullmatch(r"ARC-\d{4}-\d{6}", number), number
    save_shot(page, "subida")

    # Search for a word printed on the scan (the index catches up just after `listo`).
    assert live.wait_indexed() == 0, "el índice de búsqueda no se puso al día"
    page.goto(live.path("search_pages.search"))
    page.get_by_role("searchbox", name="Buscar").fill(WORD)
    page.get_by_role("button", name="Buscar", exact=True).click()
    result = page.locator(".resultado").filter(has_text=number)
    expect(result).to_have_count(1)
    expect(result.locator(".fragmento mark").first).to_have_text(re.compile(WORD, re.I))
    expect(result.locator(".miniatura img")).to_be_visible()
    save_shot(page, "busqueda")

    # Open it: the viewer marks the hit on the page image, from the OCR word boxes.
    result.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    image = page.locator("#visor-imagen")
    expect(image).to_be_visible()
    marks = page.locator("#visor-marcas .visor-marca")
    expect(marks.first).to_be_visible()
    expect(marks.first).to_have_attribute("title", re.compile(WORD, re.I))
    page_box, mark = image.bounding_box(), marks.first.bounding_box()
    assert page_box and mark
    slack = 4  # the mark is drawn 2 px outside the word on each side
    assert page_box["x"] <= mark["x"] + slack
    assert mark["x"] + mark["width"] <= page_box["x"] + page_box["width"] + slack
    assert page_box["y"] <= mark["y"] + slack
    assert mark["y"] + mark["height"] <= page_box["y"] + page_box["height"] + slack
    assert 0 < mark["width"] < page_box["width"] / 2  # a word, not the whole page
    expect(page.locator(".texto-ocr mark").first).to_have_text(re.compile(WORD, re.I))
    save_shot(page, "documento")
