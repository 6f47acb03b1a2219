"""The batch page: a real scanned stack, its parts and dividers, corrections through the forms.

The stack is generated with the helpers of ``tests/test_batch_split.py`` and
processed by the real pipeline (Tesseract on small pages). After a correction
the test plays the worker: it runs the messages the web layer put in the queue.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select, update

from archive.batches import Batch, BatchPart
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import Document
from archive.services import Services
from ingest.process import process_document
from ingest.tasks import register_tasks
from tests.registry_helpers import add_document
from tests.test_batch_split import (accept, content_page, load, markers, parts_of,
                                    separator_pages)


def pdf_stack(path: Path, *, leading: bool = False) -> Path:
    """[page before any separator], sheet A (contrato), 3 pages, sheet B, 1 page.

    Without ``leading``: stack pages 1 = A, 2-4 = folder A, 5 = B, 6 = folder B.
    """
    a, b = separator_pages([("1111111", "contrato"), ("2222222", None)])
    pages = ([content_page(9)] if leading else []) + [
        a, content_page(1), content_page(2), content_page(3), b, content_page(4)]
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    return path


def ingest_stack(services: Services, tmp_path: Path, *, ocr_parts: bool = True,
                 leading: bool = False) -> tuple[int, int]:
    """(upload document id, batch id) of a processed stack; parts OCR'd if asked."""
    upload_id = accept(services, pdf_stack(tmp_path / "lote.pdf", leading=leading))
    assert process_document(services, upload_id) == "listo"
    if ocr_parts:
        for part in parts_of(services, upload_id):
            if part.document_id:
                process_document(services, part.document_id)
    with session_scope(services.sessions) as s:
        batch_id = s.scalar(select(Batch.id).where(Batch.document_id == upload_id))
    assert batch_id is not None
    return upload_id, batch_id


def run_worker(services: Services) -> int:
    """Do what the worker does with the queue: run every message until none is left."""
    register_tasks(services)
    done = 0
    for _ in range(100):
        task = services.huey.dequeue()
        if task is None:
            return done
        services.huey.execute(task)
        done += 1
    raise AssertionError("la cola no se vació")


def page_of(client: FlaskClient, batch_id: int) -> str:
    """The batch page's HTML with runs of white space made one space."""
    res = client.get(f"/lotes/{batch_id}")
    assert res.status_code == 200, res.status_code
    return flat(res.get_data(as_text=True))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def flashed(text: str, category: str = "message") -> list[str]:
    """The flashed messages of one category on a page."""
    return [html.unescape(m) for m in re.findall(
        r'<p class="aviso %s" role="status">([^<]*)</p>' % category, text)]


def post(client: FlaskClient, token: str, url: str, data: dict[str, object]) -> str:
    res = client.post(url, data={**data, "csrf_token": token})
    assert res.status_code == 302, res.get_data(as_text=True)
    return flat(client.get(res.headers["Location"]).get_data(as_text=True))


def stack_pages(text: str) -> dict[int, list[int]]:
    """Part number -> stack pages listed under it, read from the page."""
    out: dict[int, list[int]] = {}
    for seq, body in re.findall(r'<section class="parte[^"]*" id="parte-(\d+)"(.*?)</section>',
                                text, re.S):
        out[int(seq)] = [int(n) for n in re.findall(r'<span class="numero">.*?Hoja (\d+)</span>',
                                                    body, re.S)]
    return out


# --------------------------------------------------------------------------- the page


def test_page_shows_every_part_and_divider_with_thumbnails(services: Services, tmp_path: Path,
                                                           client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path)
    first, second = (p.document_id for p in parts_of(services, upload_id))
    docs = {i: load(services, i) for i in (first, second)}  # type: ignore[arg-type]
    client, _ = client_as("consulta")
    text = page_of(client, batch_id)

    assert f"Lote <a href=\"/documentos/{upload_id}\">" in text
    assert "6 hojas: 2 hojas separadoras (hojas 1, 5) y 4 hojas de documento en 2 partes" in text
    assert "(hoja 1): NIS 1111111 · Contrato" in text
    assert "(hoja 5): NIS 2222222" in text
    assert stack_pages(text) == {1: [2, 3, 4], 2: [6]}
    for doc_id, doc in docs.items():
        assert f'<a href="/documentos/{doc_id}">{doc.archive_number}</a>' in text
    # Thumbnails are the part documents' pages, labelled with their stack page numbers.
    assert 'src="/documentos/%d/paginas/3/miniatura" alt="Hoja 4 del lote"' % first in text
    assert 'src="/documentos/%d/paginas/1/miniatura" alt="Hoja 6 del lote"' % second in text
    thumb = client.get(f"/documentos/{second}/paginas/1/miniatura")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert "Mover las hojas marcadas" not in text and 'name="hojas"' not in text  # read only

    archivist, _ = client_as("archivista")
    text = page_of(archivist, batch_id)
    assert text.count('name="hojas"') == 4 and "Mover las hojas marcadas" in text
    assert "Unir con la parte siguiente" in text and "Unir con la parte anterior" in text
    assert '<option value="3">3</option>' in text  # split folder A before stack page 3
    assert client_as("despacho")[0].get(f"/lotes/{batch_id}").status_code == 200
    assert client_as("regional")[0].get(f"/lotes/{batch_id}").status_code == 403
    assert archivist.get("/lotes/999").status_code == 404
    assert "No existe el lote número 999" in archivist.get("/lotes/999").get_data(as_text=True)


def test_before_ocr_pages_are_listed_without_pictures(services: Services, tmp_path: Path,
                                                      client_as) -> None:  # type: ignore[no-untyped-def]
    _, batch_id = ingest_stack(services, tmp_path, ocr_parts=False)
    text = page_of(client_as("archivista")[0], batch_id)
    assert stack_pages(text) == {1: [2, 3, 4], 2: [6]}
    assert "/paginas/" not in text and text.count("sin imagen todavía") == 4
    assert text.count('<span class="estado recibido">') == 2  # both parts wait for OCR


def test_separator_problem_text_is_escaped(services: Services, tmp_path: Path,
                                          client_as) -> None:  # type: ignore[no-untyped-def]
    _, batch_id = ingest_stack(services, tmp_path, ocr_parts=False)
    with session_scope(services.sessions) as s:  # what a hostile QR code could carry
        s.execute(update(BatchPart).where(BatchPart.batch_id == batch_id, BatchPart.seq == 2)
                  .values(problem="<script>alert(1)</script>", nis=None))
    text = page_of(client_as("consulta")[0], batch_id)
    assert "<script>alert(1)</script>" not in text
    assert "No confiable: &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "sin NIS válido" in text


# --------------------------------------------------------------------------- corrections


def test_move_through_the_form_changes_the_parts_after_the_worker_runs(
        services: Services, tmp_path: Path, client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path)
    client, token = client_as("archivista")
    services.huey.flush()

    # Stack page 4 (the third sheet of folder A) really belongs to folder B.
    text = post(client, token, f"/lotes/{batch_id}/mover", {"hojas": ["4"], "parte": "2"})
    assert flashed(text)[0].startswith("Hoja 4 pasada a la parte 2. Las partes 1 y 2 se rearman")
    assert stack_pages(text) == {1: [2, 3], 2: [4, 6]}  # the plan changed at once
    assert "Hay una corrección pendiente" in text and text.count("por rearmar</span>") == 2
    assert "/paginas/" not in text  # no stale picture under a page that moved
    assert load(services, upload_id).status is DocumentStatus.RECIBIDO
    assert services.huey.pending_count() >= 1  # the worker was woken for the upload

    assert run_worker(services) >= 3  # the upload, then the two rebuilt parts (and the indexer)
    parts = parts_of(services, upload_id)
    assert [(p.seq, p.pages, p.rebuild_due) for p in parts] == [(1, [2, 3], False),
                                                               (2, [4, 6], False)]
    docs = {p.seq: load(services, p.document_id) for p in parts}  # type: ignore[arg-type]
    assert {seq: markers(d) for seq, d in docs.items()} == {1: [1, 2], 2: [3, 4]}
    assert docs[2].nis_list == ["2222222"] and docs[2].status is DocumentStatus.LISTO

    text = page_of(client, batch_id)
    assert "Hay una corrección pendiente" not in text
    second = docs[2].id
    assert 'src="/documentos/%d/paginas/1/miniatura" alt="Hoja 4 del lote"' % second in text
    assert 'src="/documentos/%d/paginas/2/miniatura" alt="Hoja 6 del lote"' % second in text


def test_split_and_merge_through_the_forms(services: Services, tmp_path: Path,
                                           client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path)
    client, token = client_as("archivista")

    # Folder A had two folders in it: cut before stack page 4, with the missing sheet's data.
    text = post(client, token, f"/lotes/{batch_id}/dividir",
                {"parte": "1", "desde": "4", "nis": "9.999.999", "tipo": "croquis"})
    assert flashed(text)[0].startswith("Parte 1 dividida antes de la hoja 4: desde ahí es la "
                                       "parte nueva 3 con el NIS 9999999.")
    assert stack_pages(text) == {1: [2, 3], 3: [4], 2: [6]}
    assert list(stack_pages(text)) == [1, 3, 2]  # shown in stack order, not by number
    assert "Sin hoja separadora</strong>: parte cortada a mano · NIS 9999999 · Croquis" in text
    run_worker(services)
    new = next(p for p in parts_of(services, upload_id) if p.seq == 3)
    doc = load(services, new.document_id)  # type: ignore[arg-type]
    assert markers(doc) == [3] and doc.doc_type is DocumentType.CROQUIS
    assert [(l.nis, l.source) for l in doc.supplies] == [("9999999", LinkSource.MANUAL)]

    # Wrong after all: "merge with the previous part" puts it back into folder A.
    text = page_of(client, batch_id)
    assert 'name="en" value="1" class="secundario">Unir con la parte anterior' in text
    text = post(client, token, f"/lotes/{batch_id}/unir", {"parte": "3", "en": "1"})
    assert flashed(text)[0] == (
        "Parte 3 unida a la parte 1: sus hojas pasan a esa parte y su documento queda vacío "
        "(en error, sin borrarse). La parte 1 se rearma desde el original del lote y su "
        "documento se vuelve a procesar.")
    run_worker(services)
    parts = {p.seq: p for p in parts_of(services, upload_id)}
    assert parts[1].pages == [2, 3, 4] and parts[3].pages == []
    assert markers(load(services, parts[1].document_id)) == [1, 2, 3]  # type: ignore[arg-type]
    emptied = load(services, doc.id)
    assert emptied.status is DocumentStatus.ERROR and emptied.error_code == "vaciado"
    text = page_of(client, batch_id)
    assert "Todas sus páginas se pasaron a otras partes del lote" in text


def test_refusals_are_shown_in_spanish_and_change_nothing(services: Services, tmp_path: Path,
                                                          client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path, ocr_parts=False)
    client, token = client_as("archivista")
    services.huey.flush()
    url = f"/lotes/{batch_id}"
    cases = [
        ("mover", {"hojas": ["1"], "parte": "2"}, "Las páginas 1 son hojas separadoras."),
        ("mover", {"parte": "2"}, "Indique al menos una página para mover."),
        ("mover", {"hojas": ["abc"], "parte": "2"}, "Las hojas elegidas no son números de página."),
        ("mover", {"hojas": ["6"], "parte": "2"}, "Esas páginas ya están en la parte 2."),
        ("mover", {"hojas": ["2"]}, "Indique la parte a la que van las hojas."),
        ("unir", {"parte": "1", "en": "1"}, "Elija dos partes distintas para unir."),
        ("unir", {"parte": "1", "en": "7"}, "no tiene la parte 7"),
        ("dividir", {"parte": "1", "desde": "2"}, "no la primera"),
        ("dividir", {"parte": "1", "desde": "3", "nis": "12"}, "no es un NIS válido"),
        ("dividir", {"parte": "1", "desde": "3", "tipo": "poema"},
         "«poema» no es un tipo de documento."),
    ]
    for action, data, message in cases:
        text = post(client, token, f"{url}/{action}", data)
        shown = flashed(text, "error")
        assert len(shown) == 1 and message in shown[0], (action, data, shown)
        assert flashed(text) == []  # no success message next to it

    with session_scope(services.sessions) as s:  # a worker holds the upload right now
        s.execute(update(Document).where(Document.id == upload_id)
                  .values(status=DocumentStatus.PROCESANDO))
    shown = flashed(post(client, token, f"{url}/mover", {"hojas": ["4"], "parte": "2"}), "error")
    assert "se está procesando; espere a que termine para corregirlo." in shown[0]

    assert [p.pages for p in parts_of(services, upload_id)] == [[2, 3, 4], [6]]
    assert not any(p.rebuild_due for p in parts_of(services, upload_id))
    assert services.huey.pending_count() == 0  # nothing to wake the worker for
    assert client.post("/lotes/999/mover", data={"hojas": "2", "parte": "1",
                                                  "csrf_token": token}).status_code == 404


def test_only_archivists_may_correct(services: Services, tmp_path: Path,
                                     client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path, ocr_parts=False)
    for role in ("consulta", "despacho"):
        client, token = client_as(role)
        for action, data in (("mover", {"hojas": "4", "parte": "2"}),
                             ("unir", {"parte": "2", "en": "1"}),
                             ("dividir", {"parte": "1", "desde": "3"})):
            res = client.post(f"/lotes/{batch_id}/{action}", data={**data, "csrf_token": token})
            assert res.status_code == 403, (role, action)
    assert [p.pages for p in parts_of(services, upload_id)] == [[2, 3, 4], [6]]
    admin, token = client_as("admin")  # admin passes every check
    text = post(admin, token, f"/lotes/{batch_id}/mover", {"hojas": "4", "parte": "2"})
    assert flashed(text)[0].startswith("Hoja 4 pasada a la parte 2.")


# --------------------------------------------------------------------------- links


def test_review_queue_and_document_pages_link_to_the_batch(services: Services, tmp_path: Path,
                                                           client_as) -> None:  # type: ignore[no-untyped-def]
    upload_id, batch_id = ingest_stack(services, tmp_path, leading=True)
    parts = parts_of(services, upload_id)
    leading = parts[0]
    assert leading.seq == 0 and leading.pages == [1]
    assert load(services, leading.document_id).status is DocumentStatus.REVISAR  # type: ignore[arg-type]
    link = f'<a href="/lotes/{batch_id}">Ver el lote y corregir la división</a>'

    client, _ = client_as("archivista")
    queue = client.get("/revision").get_data(as_text=True)
    item = re.search(r'<article class="item-revision" id="doc-%d">(.*?)</article>'
                     % leading.document_id, queue, re.S)
    assert item and link in item.group(1)
    for doc_id in (upload_id, leading.document_id, parts[1].document_id):
        assert link in client.get(f"/documentos/{doc_id}").get_data(as_text=True), doc_id
    plain = add_document(services, 77, ["1234567"])  # a document that came from no batch
    assert "Ver el lote" not in client.get(f"/documentos/{plain}").get_data(as_text=True)

    text = page_of(client, batch_id)  # the leading pages are their own group, flagged
    assert "hojas escaneadas antes del primer separador" in text
    assert stack_pages(text) == {0: [1], 1: [3, 4, 5], 2: [7]}
