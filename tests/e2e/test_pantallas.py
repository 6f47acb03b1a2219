"""The other main pages, as their users open them: dashboard, supply file, user administration.

Each test checks what the page must show for the data it made, then saves its screenshot.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import LiveArchive, OpenAs, save_shot
from tests.web_support import ROLE_USERS


def test_dashboard_counts_documents_by_status(live: LiveArchive, open_as: OpenAs) -> None:
    doc = live.ingest(live.scan("orden-tablero.png", seed=51, doc_type="orden_trabajo"))
    assert doc.status == "listo", doc
    page = open_as("archivista")
    page.goto(live.path("dashboard.home"))
    expect(page.get_by_role("heading", name="Tablero", level=1)).to_be_visible()
    listo = page.locator("#por-estado tr").filter(has=page.locator(".estado.listo"))
    expect(listo).to_have_count(1)
    assert int(listo.locator("td.numero").inner_text()) >= 1
    expect(page.locator("#t-paginas .cifra")).not_to_have_text("0")  # pages OCR'd today
    save_shot(page, "tablero")


def test_supply_file_lists_the_documents_of_a_nis(live: LiveArchive, open_as: OpenAs) -> None:
    scan = live.scan("acuerdo-suministro.png", seed=61, doc_type="acuerdo_pago")
    doc = live.ingest(scan)
    assert doc.status == "listo" and doc.nis == scan.nis, doc
    page = open_as("consulta")
    page.goto(live.path("supplies.lookup"))
    page.get_by_label("NIS del suministro").fill(scan.nis[0])
    page.get_by_role("button", name="Ver ficha").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Suministro NIS {scan.nis[0]}")
    expect(page.locator(".ficha")).to_contain_text(scan.holder)
    expect(page.locator(".ficha")).to_contain_text("Regional Central")
    row = page.locator("#documentos tr").filter(has_text=doc.archive_number)
    expect(row).to_have_count(1)
    expect(row.locator(".estado")).to_have_text("Listo")
    save_shot(page, "suministro")


def test_admin_sees_every_user_with_its_role(live: LiveArchive, open_as: OpenAs) -> None:
    page = open_as("admin")
    page.goto(live.path("admin.users"))
    expect(page.get_by_role("heading", name="Usuarios")).to_be_visible()
    for role, username in ROLE_USERS.items():
        row = page.locator(f"#usuario-{username}")
        expect(row).to_be_visible()
        expect(row.get_by_label(f"Rol de {username}")).to_have_value(role)
    save_shot(page, "usuarios")
