"""A `consulta` clerk reads documents but cannot change them, not even by a hand-made POST."""

from __future__ import annotations

from playwright.sync_api import expect

from archive.db import read_scope
from archive.models import Document
from tests.e2e.conftest import LiveArchive, OpenAs, csrf_of_page


def test_consulta_sees_the_document_without_edit_forms_and_posts_are_refused(
        live: LiveArchive, open_as: OpenAs) -> None:
    scan = live.scan("contrato-consulta.png", seed=31, doc_type="contrato")
    doc = live.ingest(scan)
    assert doc.status == "listo", doc
    view = live.path("documents.view", doc_id=doc.document_id)

    page = open_as("consulta")
    page.goto(view)
    expect(page.get_by_role("heading", level=1)).to_contain_text(doc.archive_number)
    expect(page.locator("#visor-imagen")).to_be_visible()
    expect(page.locator(".texto-ocr")).to_contain_text("SUMINISTRO")
    expect(page.locator("main form[method=post]")).to_have_count(0)
    expect(page.get_by_role("button", name="Guardar cambios")).to_have_count(0)
    expect(page.get_by_role("button", name="Vincular")).to_have_count(0)
    expect(page.get_by_role("link", name="Subir")).to_have_count(0)  # not in its menu either

    # The same POSTs an archivist's forms send, with this session's valid CSRF token.
    token = csrf_of_page(page)
    attempts = {
        live.path("documents.edit", doc_id=doc.document_id): {"titulo": "cambiado por consulta"},
        live.path("review.link_one", doc_id=doc.document_id): {"nis": "4992383",
                                                               "confirmar_nis": "4992383"},
        live.path("documents.remove_link", doc_id=doc.document_id, nis=doc.nis[0]): {},
    }
    for path, fields in attempts.items():
        res = page.request.post(live.url + path, form={"csrf_token": token, **fields},
                                max_redirects=0)
        assert res.status == 403, (path, res.status)
        assert "permiso" in res.text().lower(), res.text()[:300]
    with read_scope(live.services.sessions) as db:
        stored = db.get(Document, doc.document_id)
        assert stored is not None
        assert stored.title != "cambiado por consulta"
        assert stored.nis_list == doc.nis

    # The archivist's view of the same page has the forms: the selectors above are the right ones.
    editor = open_as("archivista")
    editor.goto(view)
    expect(editor.get_by_role("button", name="Guardar cambios")).to_be_visible()
    expect(editor.get_by_role("button", name="Vincular")).to_be_visible()
