"""Step 1 of ingest: make the original durable, then record the document and its job.

Order matters: the bytes are stored (hashed while streaming) before any row
exists, so a crash leaves at worst an unreferenced object, never a document
without its original. The document row in ``recibido`` *is* the job: the
queue message sent after commit is only a wake-up call (see ``ingest.tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import audit
from archive.db import session_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.models import Blob, Document, DocumentSupply
from archive.nis import normalize_nis
from archive.queue import wake
from archive.sequences import archive_number
from archive.services import Services
from archive.signals import mark_document_changed

from .errors import RejectedInput
from .sniff import HEAD_BYTES, detect


@dataclass
class Accepted:
    document_id: int
    archive_number: str
    status: str
    duplicate: bool  # the same bytes were archived before; nothing new was created
    filename: str
    nis: list[str] = field(default_factory=list)


class _LimitedReader:
    """Wrap a stream: keep its first bytes for sniffing and refuse to read past the size limit."""

    def __init__(self, raw: BinaryIO, limit: int, filename: str) -> None:
        self.raw, self.limit, self.filename = raw, limit, filename
        self.count = 0
        self.head = b""

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n if n and n > 0 else 1024 * 1024)
        self.count += len(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self.count > self.limit:
            mb = self.limit // (1024 * 1024)
            raise RejectedInput("tamano", f"«{self.filename}» supera el tamaño máximo de {mb} MB. "
                                          "Divida el documento o pida que se amplíe ARCHIVO_MAX_ARCHIVO_MB.")
        return chunk


def accept_stream(services: Services, stream: BinaryIO, filename: str, *, actor: str,
                  doc_type: DocumentType | None = None, nis: Iterable[str] = (),
                  enqueue: bool = True) -> Accepted:
    """Store the bytes, create (or find) the document, and queue its processing.

    Raises :class:`RejectedInput` only for what cannot be stored at all
    (empty or over the size limit); every other bad file is stored and ends
    in ``error`` with its reason, so the archivist can see and fix it.
    """
    manual_nis = [normalize_nis(n) for n in nis]
    reader = _LimitedReader(stream, services.settings.max_file_bytes, filename)
    stored = services.store.put_original(reader)  # type: ignore[arg-type]
    if stored.size == 0:
        services.store.delete(stored.key)
        raise RejectedInput("vacio", f"«{filename}» está vacío (0 bytes). Vuelva a escanear el documento.")
    kind = detect(reader.head)
    media_type = kind.media_type if kind else "application/octet-stream"
    for attempt in range(3):
        try:
            with session_scope(services.sessions) as session:
                found = _existing(session, stored.key)
                if found is not None:
                    _add_manual_links(session, found, manual_nis, actor)
                    return _duplicate(found, filename)
                doc = _create(session, stored, media_type, filename, actor, doc_type, manual_nis)
                result = Accepted(doc.id, doc.archive_number, doc.status.value, False, filename,
                                  sorted(manual_nis))
            break
        except IntegrityError:  # the same bytes accepted concurrently: the other one won
            if attempt == 2:
                raise
    if enqueue:
        _wake_worker(services, result.document_id)
    return result


def _existing(session: Session, key: str) -> Document | None:
    return session.scalar(select(Document).join(Blob, Document.original_blob_id == Blob.id)
                          .where(Blob.storage_key == key))


def _add_manual_links(session: Session, doc: Document, manual_nis: list[str], actor: str) -> None:
    """The archivist sent known bytes again with supply numbers: keep those they add."""
    new = sorted(set(manual_nis) - set(doc.nis_list))
    if not new:
        return
    for n in new:
        session.add(DocumentSupply(document_id=doc.id, nis=n, source=LinkSource.MANUAL,
                                   confidence=1.0, created_by=actor))
    mark_document_changed(doc)
    session.flush()
    session.refresh(doc, ["supplies"])
    audit.record(session, actor, "documento.vincular", "documento", doc.archive_number,
                 {"nis": new, "origen": "manual"})


def _duplicate(doc: Document, filename: str) -> Accepted:
    return Accepted(doc.id, doc.archive_number, doc.status.value, True, filename, doc.nis_list)


def _create(session: Session, stored, media_type: str, filename: str, actor: str,  # type: ignore[no-untyped-def]
            doc_type: DocumentType | None, manual_nis: list[str]) -> Document:
    blob = session.scalar(select(Blob).where(Blob.storage_key == stored.key))
    if blob is None:
        blob = Blob(sha256=stored.sha256, size=stored.size, media_type=media_type,
                    storage_key=stored.key)
        session.add(blob)
        session.flush()
    doc = Document(
        archive_number=archive_number(session), original_blob_id=blob.id,
        original_filename=filename[:300], received_by=actor, status=DocumentStatus.RECIBIDO,
        doc_type=doc_type or DocumentType.OTRO, doc_type_fixed=doc_type is not None,
    )
    session.add(doc)
    session.flush()
    for n in sorted(set(manual_nis)):
        session.add(DocumentSupply(document_id=doc.id, nis=n, source=LinkSource.MANUAL,
                                   confidence=1.0, created_by=actor))
    audit.record(session, actor, "documento.recibir", "documento", doc.archive_number,
                 {"archivo": filename, "sha256": stored.sha256, "bytes": stored.size,
                  "tipo": doc.doc_type.value, "nis": sorted(set(manual_nis))})
    return doc


def _wake_worker(services: Services, document_id: int) -> None:
    """Send the wake-up message; if the queue is down the sweeper will find the document."""
    from .tasks import enqueue_processing

    wake(lambda: enqueue_processing(services, document_id), f"encolar el documento {document_id}")
