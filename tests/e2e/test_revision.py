"""The review queue: a scan without a legible NIS is corrected and confirmed by an archivist."""

from __future__ import annotations

from playwright.sync_api import expect

from ingest.status import summaries
from tests.e2e.conftest import LiveArchive, OpenAs, save_shot

TYPED_NIS = "4992383"


def test_archivist_corrects_and_confirms_a_document_from_the_review_queue(
        live: LiveArchive, open_as: OpenAs) -> None:
    live.register("1000001", [])  # a registry exists (whatever ran before), without 4992383
    scan = live.scan("nota-revision.png", seed=41, lines=[
        "NOTA DE MESA DE ENTRADA", "",
        "El titular solicita copia de su contrato de suministro",
        "y adjunta la fotocopia de su cédula de identidad."])
    doc = live.ingest(scan)
    assert doc.status == "revisar" and not doc.nis, doc

    page = open_as("archivista")
    page.goto(live.path("review.queue"))
    expect(page.get_by_role("heading", name="Bandeja de revisión")).to_be_visible()
    item = page.locator(f"#doc-{doc.document_id}")
    expect(item).to_contain_text(doc.archive_number)
    expect(item).to_contain_text("No se encontró ningún NIS")
    expect(item.get_by_role("img")).to_be_visible()
    save_shot(page, "revision")

    item.get_by_label("NIS (separados por coma)").fill(TYPED_NIS)
    item.get_by_role("button", name="Corregir y confirmar").click()
    # 4992383 is not in this archive's registry: the form asks once, keeping what was typed.
    expect(page.get_by_role("alert")).to_contain_text("El NIS 4992383 no figura en el padrón")
    page.get_by_label("Revisé el número").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status").filter(has_text=doc.archive_number)).to_contain_text(
        "pasa a Listo")
    expect(page.locator(f"#doc-{doc.document_id}")).to_have_count(0)  # left the queue

    after = summaries(live.services, [doc.document_id])[doc.document_id]
    assert after.status == "listo" and after.nis == [TYPED_NIS], after
    # The document page now shows the confirmed link, typed by a person.
    page.goto(live.path("documents.view", doc_id=doc.document_id))
    expect(page.locator(".nis-doc")).to_contain_text(TYPED_NIS)
    expect(page.locator(".nis-doc")).to_contain_text("Manual")
