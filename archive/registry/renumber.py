"""Renumbering a supply and merging two, as done in the commercial system.

Document links move to the new NIS (one audit event per document), the old
number stays as a :class:`SupplyAlias` so an exact search for it still finds
the documents, and the moved documents are marked for reindexing (the index
stores each document's NIS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.errors import ArchivoError
from archive.models import DocumentSupply, Supply, utcnow
from archive.nis import normalize_nis
from archive.review_reasons import refresh_all
from archive.services import Services
from archive.signals import mark_changed

from .auditing import record_many
from .models import SupplyAlias

RENUMBERED, MERGED = "renumerado", "fusionado"
_COPIED = ("holder_name", "holder_document", "address", "city", "regional_unit_id", "tariff",
           "status")


@dataclass
class MoveReport:
    old_nis: str
    new_nis: str
    kind: str  # renumerado | fusionado
    documents: list[int] = field(default_factory=list)  # every document whose links changed
    duplicates_dropped: int = 0  # documents already linked to the new NIS too


def resolve_alias(session: Session, nis: str) -> str | None:
    """The current NIS for a former one (what an exact NIS search should also look up)."""
    return session.scalar(select(SupplyAlias.nis).where(SupplyAlias.old_nis == nis))


def renumber_supply(services: Services, old_nis: str, new_nis: str, *, actor: str) -> MoveReport:
    """The supply keeps its data under a new number; the new number must not exist yet."""
    return _move(services, old_nis, new_nis, RENUMBERED, actor)


def merge_supplies(services: Services, from_nis: str, into_nis: str, *, actor: str) -> MoveReport:
    """``from_nis`` disappears into ``into_nis``, which must be in the registry."""
    return _move(services, from_nis, into_nis, MERGED, actor)


def _move(services: Services, old_text: str, new_text: str, kind: str, actor: str) -> MoveReport:
    old, new = normalize_nis(old_text), normalize_nis(new_text)
    if old == new:
        raise ArchivoError("El NIS anterior y el nuevo son el mismo.")
    with session_scope(services.sessions) as session:
        current = resolve_alias(session, old)
        if current is not None:
            raise ArchivoError(f"El NIS {old} ya fue reemplazado por {current}.")
        old_supply = session.get(Supply, old)
        new_supply = session.get(Supply, new)
        links = session.scalars(select(DocumentSupply.document_id)
                                .where(DocumentSupply.nis == old)).all()
        if old_supply is None and not links:
            raise ArchivoError(f"No hay suministro ni documentos con el NIS {old}.")
        if kind == RENUMBERED and new_supply is not None:
            raise ArchivoError(f"El NIS {new} ya existe en el registro; para unir los dos "
                               "suministros use «archivo supply merge».")
        if kind == MERGED and new_supply is None:
            raise ArchivoError(f"El suministro destino {new} no está en el registro; impórtelo "
                               "primero o use «archivo supply renumber».")
        before = {a: _plain(getattr(old_supply, a)) for a in _COPIED} if old_supply else None
        if old_supply is not None:
            if kind == RENUMBERED:
                session.add(Supply(nis=new, **{a: getattr(old_supply, a) for a in _COPIED},
                                   updated_at=utcnow()))
                session.flush()
            session.delete(old_supply)
            session.flush()

        report = MoveReport(old, new, kind, documents=sorted(links))
        already = set(session.scalars(select(DocumentSupply.document_id).where(
            DocumentSupply.nis == new, DocumentSupply.document_id.in_(links))))
        if already:
            session.execute(delete(DocumentSupply).where(
                DocumentSupply.nis == old, DocumentSupply.document_id.in_(already)))
        report.duplicates_dropped = len(already)
        session.execute(update(DocumentSupply).where(DocumentSupply.nis == old).values(nis=new))

        # Aliases never chain: former numbers of ``old`` now point at ``new``.
        session.execute(update(SupplyAlias).where(SupplyAlias.nis == old).values(nis=new))
        session.execute(delete(SupplyAlias).where(SupplyAlias.old_nis == new))
        session.add(SupplyAlias(old_nis=old, nis=new, kind=kind, created_by=actor))

        action = "suministro_renumerado" if kind == RENUMBERED else "suministros_fusionados"
        events = [(action, "suministro", old, {"hacia": new, "documentos": len(links),
                                               "datos_anteriores": before})]
        events += [("vinculo_movido", "documento", str(d),
                    {"desde": old, "hacia": new, "motivo": kind, "ya_vinculado": d in already})
                   for d in report.documents]
        record_many(session, actor, events)
        mark_changed(session, report.documents)
        session.expire_all()
        refresh_all(session, report.documents)  # their NIS may have left the registry
        return report


def _plain(value: object) -> object:
    return getattr(value, "value", value)
