"""An archivist edits a document in the browser; hostile text is shown as text, never run."""

from __future__ import annotations

from playwright.sync_api import Dialog, expect

from archive.db import read_scope
from archive.models import Document
from tests.e2e.conftest import LiveArchive, OpenAs

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_archivist_edits_metadata_and_markup_stays_text(
        live: LiveArchive, open_as: OpenAs) -> None:
    doc = live.ingest(live.scan("expediente-edicion.png", seed=81, doc_type="expediente"))
    assert doc.status == "listo", doc
    page = open_as("archivista")
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:  # an alert() would mean the markup ran
        dialogs.append(dialog.message)
        dialog.dismiss()
    page.on("dialog", on_dialog)
    page.goto(live.path("documents.view", doc_id=doc.document_id))

    form = page.locator("form").filter(has=page.get_by_role("button", name="Guardar cambios"))
    form.get_by_role("textbox", name="Título", exact=True).fill(f"Antecedentes {HOSTILE}")
    form.get_by_role("textbox", name="Expediente", exact=True).fill("123/2024")
    form.get_by_role("button", name="Guardar cambios").click()
    expect(page.get_by_role("status").filter(has_text="Datos guardados")).to_be_visible()

    expect(page.locator(".titulo-doc")).to_have_text(f"Antecedentes {HOSTILE}")  # the characters
    expect(page.locator(".titulo-doc script")).to_have_count(0)  # not elements
    expect(page.locator("main img[src='x']")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("123/2024")
    assert dialogs == []

    page.get_by_label("Vincular NIS").fill("4992383")
    page.get_by_role("button", name="Vincular").click()
    # 4992383 is not in this archive's registry: the form asks once, keeping what was typed.
    expect(page.get_by_role("alert")).to_contain_text("El NIS 4992383 no figura en el padrón")
    page.get_by_label("Revisé el número").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_contain_text("NIS 4992383 vinculado")
    expect(page.locator(".nis-doc")).to_contain_text("4992383")

    with read_scope(live.services.sessions) as db:
        stored = db.get(Document, doc.document_id)
        assert stored is not None
        assert stored.title == f"Antecedentes {HOSTILE}" and stored.expediente == "123/2024"
        assert sorted(stored.nis_list) == sorted([*doc.nis, "4992383"])
