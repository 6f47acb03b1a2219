"""The searchable PDF of a document, built from the stored web images and word boxes."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator

from archive.storage import ObjectStore

from .derivatives import PdfPage, build_searchable_pdf

if TYPE_CHECKING:
    from .process import PageResult


def build_document_pdf(store: ObjectStore, pages: Iterable["PageResult"], out: BinaryIO) -> None:
    """Stream pages one by one from storage into ``out`` (never all images in memory)."""

    def stream() -> Iterator[PdfPage]:
        for r in pages:
            yield PdfPage(jpeg=store.get_bytes(r.image_key), width=r.width, height=r.height,
                          dpi=r.dpi, words=r.words)

    build_searchable_pdf(stream(), out)
