"""A scanned stack with separator sheets comes out as one document per folder.

Real Tesseract on small generated pages; each content page carries a marker
(«Hoja 07») so a lost or duplicated page shows up.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select, update

from archive.batches import Batch, BatchPart
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.errors import ArchivoError
from archive.models import AuditEvent, Blob, Document, Page
from archive.services import Services
from ingest import split
from ingest.accept import accept_stream
from ingest.process import process_document
from ingest.samples import render_page
from ingest.separators import Separator, write_separators
from tests.test_ingest import load

MARKER = re.compile(r"Hoja\s+(\d\d)")


def separator_pages(sheets: list[tuple[str, str | None]], dpi: int = 72) -> list[Image.Image]:
    """Separator sheets as a scanner would see them (rendered, grey, low resolution)."""
    buf = io.BytesIO()
    write_separators(buf, sheets)
    pdf = pdfium.PdfDocument(buf.getvalue())
    try:
        pages = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(pdf))]
    finally:
        pdf.close()
    for p in pages:
        p.info["dpi"] = (dpi, dpi)
    return pages


def content_page(n: int) -> Image.Image:
    """A small page that OCRs in a fraction of a second, with its marker."""
    # Two lines: on a page with a single line OCR may doubt its orientation (and be slow).
    return render_page([f"Hoja {n:02d} del lote de prueba", "Carpeta de suministro"], dpi=150,
                       size_mm=(130, 34), text_pt=12)


def bad_separator_page() -> Image.Image:
    """Our prefix, but an NIS that is not one: still a separator, not to be trusted."""
    code = zxingcpp.create_barcode("ARCHIVO-SEPARADOR:1;NIS=12", zxingcpp.BarcodeFormat.QRCode)
    qr = Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(code, scale=8)))
    page = Image.new("L", (595, 842), 255)
    page.paste(qr, ((595 - qr.width) // 2, 150))
    page.info["dpi"] = (72, 72)
    return page


def write_tiff(pages: list[Image.Image], path: Path) -> Path:
    pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:],
                  compression="tiff_deflate", dpi=(150, 150))
    return path


def accept(svc: Services, path: Path) -> int:
    with path.open("rb") as fh:
        return accept_stream(svc, fh, path.name, actor="prueba", enqueue=False).document_id


def parts_of(svc: Services, doc_id: int) -> list[BatchPart]:
    with session_scope(svc.sessions) as s:
        batch = s.scalar(select(Batch).where(Batch.document_id == doc_id))
        assert batch is not None
        parts = list(batch.parts)
        s.expunge_all()
        return parts


def markers(doc: Document) -> list[int]:
    found = []
    for page in doc.pages:
        hit = MARKER.search(page.text)
        assert hit, page.text
        found.append(int(hit.group(1)))
    return found


def count(svc: Services, column) -> int:  # type: ignore[no-untyped-def]
    with session_scope(svc.sessions) as s:
        return int(s.scalar(select(func.count(column))) or 0)


# --- the 30-page stack ---------------------------------------------------------------------

FOLDERS = [  # NIS, type on the separator, pages in the folder
    ("4992383", "contrato", 3), ("1234567", None, 5), ("7654321", "croquis", 2),
    ("2345678", "orden_trabajo", 6), ("3456789", None, 4), ("5678901", "acuerdo_pago", 4),
]


def test_thirty_page_stack_with_six_separators(services: Services, tmp_path: Path) -> None:
    seps = separator_pages([(nis, kind) for nis, kind, _ in FOLDERS])
    stack: list[Image.Image] = []
    expected: list[list[int]] = []
    n = 0
    for sep, (_, _, size) in zip(seps, FOLDERS):
        stack.append(sep)
        expected.append(list(range(n + 1, n + size + 1)))
        stack.extend(content_page(i) for i in range(n + 1, n + size + 1))
        n += size
    assert len(stack) == 30 and n == 24
    path = write_tiff(stack, tmp_path / "lote.tif")

    upload_id = accept(services, path)
    assert process_document(services, upload_id) == "listo"
    upload = load(services, upload_id)
    assert upload.pages == [] and upload.page_count == 0 and upload.pdf is None
    assert "6 documentos" in upload.title
    assert services.store.get_bytes(upload.original.storage_key) == path.read_bytes()  # kept whole

    parts = parts_of(services, upload_id)
    assert [p.seq for p in parts] == [1, 2, 3, 4, 5, 6]
    separator_at = [1, 5, 11, 14, 21, 26]
    assert [p.separator_page for p in parts] == separator_at
    content_at = [n for n in range(1, 31) if n not in separator_at]
    assert sorted(n for p in parts for n in p.pages) == content_at  # every page once, no separator
    with session_scope(services.sessions) as s:
        assert s.scalar(select(Batch.separator_pages)) == separator_at

    children = [p.document_id for p in parts]
    assert all(children) and len(set(children)) == 6
    for child_id in children:  # what a worker does with the queued children
        assert process_document(services, child_id) in {"listo", "revisar"}

    seen: list[int] = []
    for (nis, kind, size), part, want in zip(FOLDERS, parts, expected):
        doc = load(services, part.document_id)  # type: ignore[arg-type]
        assert [(l.nis, l.source, l.confidence) for l in doc.supplies] == [
            (nis, LinkSource.CODIGO, 1.0)]
        assert part.nis == nis
        if kind:
            assert doc.doc_type is DocumentType(kind) and doc.doc_type_fixed
        assert doc.status is DocumentStatus.LISTO, doc.review_reasons
        assert doc.page_count == size and [p.number for p in doc.pages] == list(range(1, size + 1))
        assert markers(doc) == want
        assert not any("SEPARADOR" in p.text.upper() for p in doc.pages)
        assert doc.original_filename == f"lote_parte{part.seq:02d}.tif"
        assert doc.received_at == upload.received_at
        frames = Image.open(io.BytesIO(services.store.get_bytes(doc.original.storage_key)))
        assert frames.n_frames == size and doc.original.media_type == "image/tiff"
        seen.extend(markers(doc))
    assert sorted(seen) == list(range(1, 25))  # no page lost or duplicated

    with session_scope(services.sessions) as s:
        split_events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "documento.dividir")).all()
        assert len(split_events) == 1 and split_events[0].object_id == upload.archive_number
        assert [p["nis"] for p in split_events[0].details["partes"]] == [f[0] for f in FOLDERS]

    # The same stack again: the same upload, nothing new.
    def totals() -> tuple[int, int, int]:
        return count(services, Document.id), count(services, Blob.id), count(services, Page.id)

    before = totals()
    with path.open("rb") as fh:
        again = accept_stream(services, fh, "lote-otra-vez.tif", actor="prueba", enqueue=False)
    assert again.duplicate and again.document_id == upload_id
    assert process_document(services, upload_id) == "omitido"
    assert totals() == before
    assert count(services, BatchPart.id) == 6


def test_stack_without_separators_is_one_document(services: Services, tmp_path: Path) -> None:
    path = write_tiff([content_page(i) for i in (1, 2, 3)], tmp_path / "comun.tif")
    doc_id = accept(services, path)
    process_document(services, doc_id)
    doc = load(services, doc_id)
    assert doc.page_count == 3 and markers(doc) == [1, 2, 3]
    assert count(services, Batch.id) == 0 and count(services, Document.id) == 1


# --- a PDF stack: leading pages, an unreadable separator, an empty folder, a crash ---------


def pdf_stack(path: Path) -> Path:
    """1 page before any separator, folder A (2 pages), a bad separator + 1 page,
    folder B with nothing behind it, folder C (1 page)."""
    a, b, c = separator_pages([("1111111", "contrato"), ("2222222", None), ("3333333", None)])
    pages = [content_page(1), a, content_page(2), content_page(3), bad_separator_page(),
             content_page(4), b, c, content_page(5)]
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    return path


def test_pdf_stack_edges(services: Services, tmp_path: Path) -> None:
    path = pdf_stack(tmp_path / "lote.pdf")
    upload_id = accept(services, path)
    assert process_document(services, upload_id) == "listo"
    parts = parts_of(services, upload_id)
    assert [(p.seq, p.separator_page, p.nis, p.pages) for p in parts] == [
        (0, None, None, [1]), (1, 2, "1111111", [3, 4]), (2, 5, None, [6]),
        (3, 7, "2222222", []), (4, 8, "3333333", [9])]
    assert parts[2].problem and "NIS inválido" in parts[2].problem
    assert parts[3].document_id is None  # a separator with nothing behind it: no document
    assert upload_pages_gone(services, upload_id)

    docs = {}
    for part in parts:
        if part.document_id:
            process_document(services, part.document_id)
            docs[part.seq] = load(services, part.document_id)
    assert {seq: markers(d) for seq, d in docs.items()} == {0: [1], 1: [2, 3], 2: [4], 4: [5]}
    leading, bad = docs[0], docs[2]
    assert leading.status is DocumentStatus.REVISAR and "sin_separador" in leading.review_reasons
    assert leading.supplies == []
    assert bad.status is DocumentStatus.REVISAR and "separador_invalido" in bad.review_reasons
    assert bad.supplies == []
    assert docs[1].status is DocumentStatus.LISTO and docs[1].nis_list == ["1111111"]
    assert docs[1].doc_type is DocumentType.CONTRATO
    for d in docs.values():  # PDF parts: pages copied from the stack, opened like any upload
        assert d.original.media_type == "application/pdf"
        assert d.original_filename.endswith(".pdf")
        pdf = pdfium.PdfDocument(services.store.get_bytes(d.original.storage_key))
        assert len(pdf) == d.page_count
        pdf.close()


def upload_pages_gone(svc: Services, upload_id: int) -> bool:
    """Page 1 was OCR'd before the first separator showed up; nothing of it may remain."""
    doc = load(svc, upload_id)
    return doc.pages == [] and not list(svc.store.iterate(f"pages/{doc.original.sha256[:2]}/"
                                                          f"{doc.original.sha256[2:4]}/"
                                                          f"{doc.original.sha256}/"))


class _Killed(BaseException):
    """Stands for kill -9: not an Exception, so nothing in the pipeline handles it."""


def test_split_killed_before_commit_is_redone_exactly_once(services: Services, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = pdf_stack(tmp_path / "lote.pdf")
    upload_id = accept(services, path)
    real_record = split._record

    def record_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_record(*args, **kwargs)  # rows written, transaction not committed
        raise _Killed()

    monkeypatch.setattr(split, "_record", record_then_die)
    with pytest.raises(_Killed):
        process_document(services, upload_id)
    monkeypatch.undo()
    assert count(services, Batch.id) == 0 and count(services, Document.id) == 1
    stored_first = {o.key for o in services.store.iterate("originals/")}
    assert len(stored_first) == 1 + 4  # the stack and its four parts (objects only)

    with session_scope(services.sessions) as s:  # the lease of the dead worker runs out
        s.execute(update(Document).where(Document.id == upload_id).values(
            claimed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
    assert process_document(services, upload_id) == "listo"
    assert {o.key for o in services.store.iterate("originals/")} == stored_first  # same bytes
    assert count(services, Batch.id) == 1 and count(services, BatchPart.id) == 5
    assert count(services, Document.id) == 1 + 4
    assert count(services, Blob.id) == 1 + 4
    with session_scope(services.sessions) as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "documento.dividir")) == 1
        assert s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "documento.recibir")) == 1 + 4

    # Reprocessing the upload keeps its parts (they may have been corrected by then).
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.id == upload_id).values(
            status=DocumentStatus.RECIBIDO))
    assert process_document(services, upload_id) == "listo"
    assert count(services, Document.id) == 1 + 4 and count(services, BatchPart.id) == 5


def test_only_separators_is_an_error_with_the_original_kept(services: Services,
                                                            tmp_path: Path) -> None:
    path = write_tiff(separator_pages([("1111111", None), ("2222222", None)]), tmp_path / "s.tif")
    doc_id = accept(services, path)
    assert process_document(services, doc_id) == "error"
    doc = load(services, doc_id)
    assert doc.error_code == "solo_separadores" and "hojas separadoras" in (doc.error_message or "")
    assert count(services, Batch.id) == 0


def test_plan_cuts_at_separators() -> None:
    sep = {n: Separator(str(1000000 + n)) for n in (3, 4, 7)}
    cuts = split.plan(8, sep)
    assert [(c.seq, c.separator_page, c.pages) for c in cuts] == [
        (0, None, [1, 2]), (1, 3, []), (2, 4, [5, 6]), (3, 7, [8])]
    assert [(c.seq, c.pages) for c in split.plan(3, {1: Separator("1234567")})] == [(1, [2, 3])]
    assert [(c.seq, c.pages) for c in split.plan(2, {})] == [(0, [1, 2])]


@pytest.mark.postgres
def test_split_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    """The same split transaction (JSON page lists, archive numbers, links) on PostgreSQL."""
    import uuid

    from sqlalchemy import create_engine, text

    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    schema = f"lote_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    svc = make_services(tmp_path / "var",
                        ARCHIVO_DATABASE_URL=f"{pg_database}?options=-csearch_path%3D{schema}")
    try:
        initialize(svc)
        upload_id = accept(svc, pdf_stack(tmp_path / "lote.pdf"))
        assert process_document(svc, upload_id) == "listo"
        parts = parts_of(svc, upload_id)
        assert [(p.seq, p.nis, p.pages) for p in parts] == [
            (0, None, [1]), (1, "1111111", [3, 4]), (2, None, [6]), (3, "2222222", []),
            (4, "3333333", [9])]
        child = load(svc, parts[1].document_id)  # type: ignore[arg-type]
        assert child.status is DocumentStatus.RECIBIDO and child.archive_number.endswith("-000003")
        assert [(l.nis, l.source) for l in child.supplies] == [("1111111", LinkSource.CODIGO)]
        assert process_document(svc, upload_id) == "omitido"
    finally:
        svc.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- corrections: move pages, split a part, merge parts --------------------------------------


def _correct(svc: Services, upload_id: int, fn) -> object:  # type: ignore[no-untyped-def]
    from archive.batches import batch_of

    with session_scope(svc.sessions) as s:
        return fn(s, batch_of(s, upload_id))


def _run_all(svc: Services, upload_id: int) -> dict[int, Document]:
    """What the worker does after a correction: the upload, then the parts sent back to it."""
    assert process_document(svc, upload_id) == "listo"
    docs = {}
    for part in parts_of(svc, upload_id):
        if part.document_id:
            process_document(svc, part.document_id)  # "omitido" for parts left as they were
            docs[part.seq] = load(svc, part.document_id)
    return docs


def test_corrections_rebuild_the_parts_from_the_stack(services: Services, tmp_path: Path) -> None:
    from archive.batches import BatchEditRefused, merge, move_pages, split_part

    a, b = separator_pages([("1111111", "contrato"), ("2222222", None)])
    pages = [a, content_page(1), content_page(2), content_page(3), b, content_page(4)]
    path = tmp_path / "lote.pdf"
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=150)
    upload_id = accept(services, path)
    docs = _run_all(services, upload_id)
    assert {seq: markers(d) for seq, d in docs.items()} == {1: [1, 2, 3], 2: [4]}
    first_original = docs[1].original.sha256

    # Sheet 3 of folder 1 really belongs to folder 2.
    with pytest.raises(BatchEditRefused, match="hojas separadoras"):
        _correct(services, upload_id, lambda s, bt: move_pages(s, bt, [1], 2, actor="ana"))
    changed = _correct(services, upload_id, lambda s, bt: move_pages(s, bt, [4], 2, actor="ana"))
    assert changed == [1, 2]
    with session_scope(services.sessions) as s:  # a worker holds the upload right now
        s.execute(update(Document).where(Document.id == upload_id).values(
            status=DocumentStatus.PROCESANDO))
    with pytest.raises(BatchEditRefused, match="se está procesando"):
        _correct(services, upload_id, lambda s, bt: move_pages(s, bt, [3], 2, actor="ana"))
    with session_scope(services.sessions) as s:
        s.execute(update(Document).where(Document.id == upload_id).values(
            status=DocumentStatus.RECIBIDO))
    docs = _run_all(services, upload_id)
    assert {seq: markers(d) for seq, d in docs.items()} == {1: [1, 2], 2: [3, 4]}
    assert docs[1].original.sha256 != first_original and docs[1].nis_list == ["1111111"]
    assert docs[2].status is DocumentStatus.LISTO and docs[2].nis_list == ["2222222"]

    # A folder had no separator sheet: cut part 2 before stack page 6, with its NIS.
    new_seq = _correct(services, upload_id, lambda s, bt: split_part(
        s, bt, 2, 6, nis="9.999.999", doc_type=DocumentType.CROQUIS, actor="ana"))
    docs = _run_all(services, upload_id)
    assert {seq: markers(d) for seq, d in docs.items()} == {1: [1, 2], 2: [3], new_seq: [4]}
    new_doc = docs[new_seq]
    assert [(l.nis, l.source) for l in new_doc.supplies] == [("9999999", LinkSource.MANUAL)]
    assert new_doc.doc_type is DocumentType.CROQUIS and new_doc.status is DocumentStatus.LISTO

    # That was wrong after all: put it back into folder 1. Its document stays, emptied.
    _correct(services, upload_id, lambda s, bt: merge(s, bt, new_seq, 1, actor="ana"))
    docs = _run_all(services, upload_id)
    assert markers(docs[1]) == [1, 2, 4] and markers(docs[2]) == [3]
    emptied = docs[new_seq]
    assert emptied.status is DocumentStatus.ERROR and emptied.error_code == "vaciado"
    assert emptied.pages == []
    assert sorted(n for p in parts_of(services, upload_id) for n in p.pages) == [2, 3, 4, 6]

    with session_scope(services.sessions) as s:
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.actor == "ana").order_by(AuditEvent.id)).all()
        assert actions == ["lote.mover_paginas", "lote.dividir_parte", "documento.vaciar",
                           "lote.mover_paginas", "lote.unir"]
        assert s.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "documento.reconstruir")) == 2 + 1 + 1


def test_parts_that_swap_pages_swap_documents(services: Services, tmp_path: Path) -> None:
    """Two corrections before the worker runs; documents follow their content."""
    from archive.batches import move_pages

    a, b = separator_pages([("1111111", None), ("2222222", None)])
    path = write_tiff([a, content_page(1), b, content_page(2)], tmp_path / "lote.tif")
    upload_id = accept(services, path)
    assert process_document(services, upload_id) == "listo"
    first, second = (p.document_id for p in parts_of(services, upload_id))
    originals = {i: load(services, i).original.sha256 for i in (first, second)}  # type: ignore[index]

    _correct(services, upload_id, lambda s, bt: move_pages(s, bt, [4], 1, actor="ana"))
    _correct(services, upload_id, lambda s, bt: move_pages(s, bt, [2], 2, actor="ana"))
    assert process_document(services, upload_id) == "listo"  # rebuilds; children not OCR'd here
    parts = parts_of(services, upload_id)
    assert [(p.seq, p.pages, p.document_id) for p in parts] == [(1, [4], second), (2, [2], first)]
    for doc_id, nis in ((second, "1111111"), (first, "2222222")):
        doc = load(services, doc_id)  # type: ignore[arg-type]
        assert doc.status is DocumentStatus.RECIBIDO and doc.original.sha256 == originals[doc_id]
        assert [(l.nis, l.source) for l in doc.supplies] == [(nis, LinkSource.CODIGO)]
    assert count(services, Document.id) == 3 and count(services, Blob.id) == 3


def test_corrections_that_make_no_sense_are_refused(services: Services, tmp_path: Path) -> None:
    from archive.batches import BatchEditRefused, batch_of, merge, move_pages, split_part

    a, b = separator_pages([("1111111", None), ("2222222", None)])
    path = write_tiff([a, content_page(1), content_page(2), b, content_page(3)], tmp_path / "l.tif")
    upload_id = accept(services, path)
    assert process_document(services, upload_id) == "listo"
    refusals = [
        (lambda s, bt: move_pages(s, bt, [], 1, actor="ana"), "al menos una página"),
        (lambda s, bt: move_pages(s, bt, [9], 1, actor="ana"), "no son páginas de documento"),
        (lambda s, bt: move_pages(s, bt, [2], 1, actor="ana"), "ya están en la parte 1"),
        (lambda s, bt: move_pages(s, bt, [2], 7, actor="ana"), "no tiene la parte 7"),
        (lambda s, bt: merge(s, bt, 1, 1, actor="ana"), "dos partes distintas"),
        (lambda s, bt: split_part(s, bt, 1, 2, actor="ana"), "no la primera"),
        (lambda s, bt: split_part(s, bt, 1, 5, actor="ana"), "no está dentro de la parte 1"),
        (lambda s, bt: split_part(s, bt, 1, 3, nis="12", actor="ana"), "no es un NIS válido"),
    ]
    for fn, message in refusals:
        with pytest.raises(ArchivoError, match=message):
            _correct(services, upload_id, fn)
    with session_scope(services.sessions) as s:
        with pytest.raises(BatchEditRefused, match="no es un lote"):
            batch_of(s, parts_of(services, upload_id)[0].document_id)  # type: ignore[arg-type]
        assert s.get(Document, upload_id).status is DocumentStatus.LISTO  # nothing changed
    assert [p.pages for p in parts_of(services, upload_id)] == [[2, 3], [5]]
