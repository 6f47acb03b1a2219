"""Read-side summaries of documents, shared by the CLI, the watcher and the web API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive.db import read_scope
from archive.enums import DocumentStatus
from archive.models import Document
from archive.services import Services

FINAL = {DocumentStatus.LISTO, DocumentStatus.REVISAR, DocumentStatus.ERROR}


@dataclass
class DocumentSummary:
    document_id: int
    archive_number: str
    status: str
    doc_type: str
    nis: list[str]
    pages: int
    review_reasons: list[str]
    error: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summaries(services: Services, ids: Iterable[int]) -> dict[int, DocumentSummary]:
    ids = list(ids)
    if not ids:
        return {}
    with read_scope(services.sessions) as session:
        docs = session.scalars(select(Document).where(Document.id.in_(ids))
                               .options(selectinload(Document.supplies))).all()
        return {d.id: DocumentSummary(d.id, d.archive_number, d.status.value, d.doc_type.value,
                                      d.nis_list, d.page_count,
                                      [r for r in d.review_reasons.split(",") if r],
                                      d.error_message) for d in docs}


def is_final(status: str) -> bool:
    return DocumentStatus(status) in FINAL
