"""The searchable PDF of a document, built from the stored web images and word boxes."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from archive.storage import ObjectStore

from .derivatives import PdfPage, build_searchable_pdf
from .page_result import PageResult

# What the PDF says about itself (reader title bar, file properties, screen readers);
# author and language come from ``archive.pdf_info``.
SUBJECT = "Documento escaneado del archivo de Atención al Cliente, con texto buscable (OCR)"


def pdf_title(archive_number: str | None) -> str:
    return f"Documento {archive_number}" if archive_number else "Documento escaneado"


def build_document_pdf(store: ObjectStore, pages: Iterable[PageResult], out: BinaryIO, *,
                       archive_number: str | None = None, scratch: Path | None = None) -> None:
    """Stream pages one by one from storage into ``out`` (never all images in memory)."""

    def stream() -> Iterator[PdfPage]:
        for r in pages:
            yield PdfPage(jpeg=store.get_bytes(r.image_key), width=r.width, height=r.height,
                          dpi=r.dpi, words=r.words)

    build_searchable_pdf(stream(), out, title=pdf_title(archive_number), subject=SUBJECT,
                         scratch=scratch)
