"""Upload page in a real browser: long names wrap, sizes are honest, a doubtful NIS is confirmed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORT, LiveArchive, OpenAs

LONG_NAME = "acta_de_entrega_" + "x" * 950 + ".png"  # 970 characters, no space to break at


def _fits(page: Page) -> None:
    """The page is no wider than the window, measured once its stylesheets have applied
    (a busy machine can show the heading before the CSS has loaded)."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"la página mide {width} px de ancho"


def test_long_names_wrap_and_sizes_are_honest(live: LiveArchive, open_as: OpenAs) -> None:
    scan = live.scan("nombre-largo.png", seed=47)
    page = open_as("archivista")
    page.goto(live.path("upload.page"))
    page.locator("#archivos").set_input_files([
        {"name": LONG_NAME, "mimeType": "image/png", "buffer": scan.path.read_bytes()},
        {"name": "vacio.png", "mimeType": "image/png", "buffer": b""},
        {"name": "chico.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"0" * 508}])
    rows = page.locator("#lista-cuerpo tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("vacio.png (0 bytes)")
    expect(rows.nth(2)).to_contain_text("chico.png (512 bytes)")
    expect(rows.first.locator("td").first).to_have_attribute("title", LONG_NAME)
    _fits(page)


def test_a_doubtful_nis_is_sent_only_once_confirmed(live: LiveArchive, open_as: OpenAs) -> None:
    scan = live.scan("nis-dudoso.png", seed=48)  # its printed NIS makes the registry non-empty
    page = open_as("archivista")
    page.goto(live.path("upload.page"))
    page.locator("#archivos").set_input_files(
        {"name": LONG_NAME, "mimeType": "image/png", "buffer": scan.path.read_bytes()})
    page.locator("#nis").fill("123456")
    button = page.get_by_role("button", name="Subir 1 archivo")
    button.click()
    expect(page.locator("#confirmar-nis")).to_be_visible()
    expect(page.locator("#avisos-nis")).to_contain_text(
        "El NIS 123456 no figura en el padrón de suministros")
    row = page.locator("#lista-cuerpo tr").first
    expect(row.locator(".estado")).to_have_text("En espera")  # nothing was sent
    page.locator("#casilla-confirmar-nis").check()
    button.click()
    link = row.get_by_role("link")
    expect(link).to_have_text(re.compile(r"ARC-\d{4}-\d{6}"))
    _fits(page)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ARC-")
    expect(page.locator("table.nis-doc")).to_contain_text("123456")
    _fits(page)
