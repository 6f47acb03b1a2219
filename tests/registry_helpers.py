"""Shared setup for the supply registry tests: an archive on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from archive.db import session_scope
from archive.enums import LinkSource
from archive.models import AuditEvent, Blob, Document, DocumentSupply, Supply
from archive.services import Services

HEADER = "NIS;TITULAR;CEDULA;DIRECCION;CIUDAD;REGIONAL;TARIFA;ESTADO"


def registry_services(tmp_path: Path, db_url: str) -> Services:
    from archivo_cli.bootstrap import initialize
    from tests.conftest import make_services

    svc = make_services(tmp_path / "var", ARCHIVO_DATABASE_URL=db_url)
    initialize(svc)
    return svc


def write(path: Path, lines: list[str], encoding: str = "utf-8", sep: str = ";") -> Path:
    text = "\n".join(line.replace(";", sep) for line in lines) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def rows(n: int, start: int = 1000000, holder: str = "Titular") -> list[str]:
    units = ["CEN", "SUR", "Regional Este", "norte"]
    return [f"{start + i};{holder} {i};{3000000 + i};Calle {i} c/ Ñandutí;Asunción;"
            f"{units[i % 4]};T{i % 3};{'BAJA' if i % 10 == 9 else 'ACTIVO'}" for i in range(n)]


def supplies(svc: Services) -> dict[str, tuple]:
    with session_scope(svc.sessions) as s:
        return {r[0]: tuple(r[1:]) for r in s.execute(select(
            Supply.nis, Supply.holder_name, Supply.holder_document, Supply.address, Supply.city,
            Supply.regional_unit_id, Supply.tariff, Supply.status))}


def audit_count(svc: Services, action: str) -> int:
    with session_scope(svc.sessions) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)))


def add_document(svc: Services, number: int, nis: list[str]) -> int:
    with session_scope(svc.sessions) as s:
        blob = Blob(sha256=f"{number:064d}", size=1, media_type="application/pdf", storage_key=f"k/{number}")
        s.add(blob)
        s.flush()
        doc = Document(archive_number=f"ARC-2026-{number:06d}", original_blob_id=blob.id)
        s.add(doc)
        s.flush()
        for n in nis:
            s.add(DocumentSupply(document_id=doc.id, nis=n, source=LinkSource.MANUAL, created_by="t"))
        return doc.id
