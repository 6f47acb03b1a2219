"""Shared setup for the dispatch tests (no tests here): an archive, documents, people, a clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from archive.db import session_scope
from archive.enums import DocumentType, LinkSource, Role
from archive.models import Blob, Document, DocumentSupply, RegionalUnit
from archive.services import Services
from dispatch import Actor, add_courier

UTC = dt.timezone.utc
# 10:00 in Asunción (UTC-3) on Monday 2 March 2026.
T0 = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
DESPACHO = Actor("despacho1", Role.DESPACHO)
ADMIN = Actor("admin", Role.ADMIN)
CONSULTA = Actor("consulta1", Role.CONSULTA)
COURIER = "Correo Paraguayo"


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hours)


def dispatch_services(tmp_path: Path, db_url: str | None = None) -> Services:
    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    extra = {"ARCHIVO_DATABASE_URL": db_url} if db_url else {}
    svc = make_services(tmp_path / "var", ARCHIVO_BASE_URL="https://archivo.example.py", **extra)
    initialize(svc)
    add_courier(svc, ADMIN, COURIER)
    return svc


def unit_id(svc: Services, code: str) -> int:
    with session_scope(svc.sessions) as s:
        return int(s.scalar(select(RegionalUnit.id).where(RegionalUnit.code == code)))


def regional(svc: Services, code: str) -> Actor:
    return Actor(f"usuario_{code.lower()}", Role.REGIONAL, unit_id(svc, code))


def add_doc(svc: Services, n: int, nis: tuple[str, ...] = (), pages: int = 2,
            doc_type: DocumentType = DocumentType.CROQUIS) -> str:
    """An archived document ARC-2026-<n> with pages and NIS links; returns its number."""
    number = f"ARC-2026-{n:06d}"
    with session_scope(svc.sessions) as s:
        blob = Blob(sha256=f"{n:064x}", size=1, media_type="application/pdf",
                    storage_key=f"originals/t/{n}")
        s.add(blob)
        s.flush()
        doc = Document(archive_number=number, original_blob_id=blob.id, doc_type=doc_type,
                       page_count=pages, title=f"Documento {n}")
        s.add(doc)
        s.flush()
        for v in nis:
            s.add(DocumentSupply(document_id=doc.id, nis=v, source=LinkSource.MANUAL,
                                 created_by="prueba"))
    return number


def doc_id(svc: Services, number: str) -> int:
    with session_scope(svc.sessions) as s:
        return int(s.scalar(select(Document.id).where(Document.archive_number == number)))
