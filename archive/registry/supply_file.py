"""The supply file (ficha del suministro): everything archivo knows about one NIS.

Read in one transaction and returned as detached dataclasses, so the web page,
the HTTP API (``GET /api/v1/supplies/{nis}`` returns ``as_dict()``) and the
CLI (``archivo supply NIS``) show the same thing.

A NIS that is not in the registry but has documents linked to it still has a
file (``registry`` is ``None``): the registry may be older than the papers.
A former NIS (renumbered or merged away, see :mod:`.renumber`) shows the file
of the NIS that replaced it and says so (``replaced``).

Dispatches live in the ``dispatch`` package, which the core must not import:
the caller fetches them (``dispatch.dispatches_for_supply``) and hands them to
:func:`summarize_dispatches`; ``dispatches`` stays ``None`` (and out of
``as_dict``) until then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from archive.enums import DocumentType
from archive.labels import action_label, value_text
from archive.localtime import iso_local
from archive.models import AuditEvent, Document, DocumentSupply, Supply
from archive.nis import normalize_nis

from .models import SupplyAlias

HISTORY_LIMIT = 200
KIND_LABELS = {"renumerado": "renumerado", "fusionado": "fusionado"}
ACTION_LABELS = {
    "suministro_actualizado": "Datos del suministro actualizados por importación",
    "suministro_renumerado": "Suministro renumerado",
    "suministros_fusionados": "Suministros fusionados",
    "documento.vincular": "Documento vinculado",
    "documento.desvincular": "Documento desvinculado",
    "vinculo_movido": "Vínculo movido por renumeración o fusión",
}
LINK_ACTIONS = ("documento.vincular", "documento.desvincular")
_TYPE_ORDER = {t.value: i for i, t in enumerate(DocumentType)}


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment and moment.tzinfo is None else moment


# Same spelling as every API reply: local time with its offset.
_iso = iso_local


@dataclass(frozen=True)
class RegistryData:
    """The supply as the commercial system exported it."""

    holder_name: str
    holder_document: str
    address: str
    city: str
    regional_unit_code: str | None
    regional_unit_name: str | None
    tariff: str
    status: str
    status_label: str
    updated_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        unit = ({"codigo": self.regional_unit_code, "nombre": self.regional_unit_name}
                if self.regional_unit_code else None)
        return {"titular": self.holder_name, "documento": self.holder_document,
                "direccion": self.address, "ciudad": self.city, "unidad_regional": unit,
                "tarifa": self.tariff, "estado": self.status, "estado_nombre": self.status_label,
                "actualizado": _iso(self.updated_at)}


@dataclass(frozen=True)
class FileDocument:
    """One document linked to the supply, with how it was linked."""

    id: int
    archive_number: str
    doc_type: str
    doc_type_label: str
    title: str
    document_date: dt.date | None
    received_at: dt.datetime | None
    page_count: int
    status: str
    status_label: str
    link_source: str
    link_source_label: str
    link_confidence: float
    linked_by: str
    linked_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "numero": self.archive_number, "tipo": self.doc_type,
                "tipo_nombre": self.doc_type_label, "titulo": self.title,
                "fecha": _iso(self.document_date), "recibido": _iso(self.received_at),
                "paginas": self.page_count, "estado": self.status,
                "estado_nombre": self.status_label, "vinculo_origen": self.link_source,
                "vinculo_origen_nombre": self.link_source_label,
                "vinculo_confianza": round(self.link_confidence, 3),
                "vinculado_por": self.linked_by, "vinculado": _iso(self.linked_at)}


@dataclass(frozen=True)
class TypeGroup:
    doc_type: str
    label: str
    documents: tuple[FileDocument, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"tipo": self.doc_type, "tipo_nombre": self.label,
                "cantidad": len(self.documents),
                "documentos": [d.as_dict() for d in self.documents]}


@dataclass(frozen=True)
class AliasView:
    """A former NIS that now points at this supply."""

    old_nis: str
    kind: str  # renumerado | fusionado
    created_at: dt.datetime | None
    created_by: str

    def as_dict(self) -> dict[str, Any]:
        return {"nis_anterior": self.old_nis, "tipo": self.kind, "fecha": _iso(self.created_at),
                "usuario": self.created_by}


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime | None
    actor: str
    action: str
    action_label: str
    subject: str  # "NIS 1234567" or an archive number
    description: str  # Spanish, one line
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"fecha": _iso(self.at), "usuario": self.actor, "accion": self.action,
                "accion_nombre": self.action_label, "objeto": self.subject,
                "descripcion": self.description, "detalles": self.details}


@dataclass(frozen=True)
class DispatchSummary:
    """A dispatch that carried documents of the supply (built by :func:`summarize_dispatches`)."""

    id: int
    number: str
    state: str
    state_label: str
    destination: str
    regional_unit_code: str
    is_return: bool
    created_at: dt.datetime | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    archive_numbers: tuple[str, ...]  # this supply's documents in the package

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "numero": self.number, "estado": self.state,
                "estado_nombre": self.state_label, "destino": self.destination,
                "unidad_regional": self.regional_unit_code, "devolucion": self.is_return,
                "creado": _iso(self.created_at), "enviado": _iso(self.sent_at),
                "recibido": _iso(self.received_at), "documentos": list(self.archive_numbers)}


@dataclass
class SupplyFile:
    nis: str  # the current number
    requested_nis: str  # what was asked for (differs when it was replaced)
    replaced_kind: str | None  # renumerado | fusionado when requested_nis is a former NIS
    registry: RegistryData | None
    groups: list[TypeGroup]
    aliases: list[AliasView]
    history: list[HistoryEntry]
    dispatches: list[DispatchSummary] | None = field(default=None)

    @property
    def in_registry(self) -> bool:
        return self.registry is not None

    @property
    def documents(self) -> list[FileDocument]:
        return [d for g in self.groups for d in g.documents]

    @property
    def document_ids(self) -> list[int]:
        return [d.id for d in self.documents]

    @property
    def notice(self) -> str | None:
        """Spanish sentence shown when a former NIS was asked for."""
        if self.replaced_kind is None:
            return None
        kind = KIND_LABELS.get(self.replaced_kind, self.replaced_kind)
        return (f"El NIS {self.requested_nis} fue {kind} en {self.nis}; se muestra la ficha "
                f"del suministro {self.nis}.")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "nis": self.nis,
            "nis_consultado": self.requested_nis,
            "reemplazo": ({"nis_anterior": self.requested_nis, "tipo": self.replaced_kind,
                           "mensaje": self.notice} if self.replaced_kind else None),
            "en_registro": self.in_registry,
            "registro": self.registry.as_dict() if self.registry else None,
            "total_documentos": len(self.documents),
            "documentos_por_tipo": [g.as_dict() for g in self.groups],
            "nis_anteriores": [a.as_dict() for a in self.aliases],
            "historial": [h.as_dict() for h in self.history],
        }
        if self.dispatches is not None:
            out["despachos"] = [d.as_dict() for d in self.dispatches]
        return out


def load_supply_file(session: Session, nis: str, *,
                     history_limit: int = HISTORY_LIMIT) -> SupplyFile | None:
    """The file of ``nis`` (or of the NIS that replaced it); ``None`` if nothing is known.

    Raises :class:`archive.errors.ArchivoError` (Spanish) when ``nis`` is not a NIS at all.
    """
    requested = normalize_nis(nis)
    alias = session.get(SupplyAlias, requested)
    current = alias.nis if alias is not None else requested
    supply = session.get(Supply, current)
    aliases = [AliasView(a.old_nis, a.kind, _utc(a.created_at), a.created_by)
               for a in session.scalars(select(SupplyAlias).where(SupplyAlias.nis == current)
                                        .order_by(SupplyAlias.created_at, SupplyAlias.old_nis))]
    rows = session.execute(
        select(Document, DocumentSupply)
        .join(DocumentSupply, DocumentSupply.document_id == Document.id)
        .where(DocumentSupply.nis == current)).all()
    if supply is None and not rows and alias is None and not aliases:
        return None
    documents = [_document(doc, link) for doc, link in rows]
    numbers = {d.id: d.archive_number for d in documents}
    return SupplyFile(
        nis=current, requested_nis=requested, replaced_kind=alias.kind if alias else None,
        registry=_registry(supply) if supply is not None else None, groups=_grouped(documents),
        aliases=aliases,
        history=_history(session, current, [a.old_nis for a in aliases], numbers, history_limit))


def _registry(s: Supply) -> RegistryData:
    unit = s.regional_unit
    return RegistryData(s.holder_name, s.holder_document, s.address, s.city,
                        unit.code if unit else None, unit.name if unit else None, s.tariff,
                        s.status.value, s.status.label, _utc(s.updated_at))


def _document(doc: Document, link: DocumentSupply) -> FileDocument:
    return FileDocument(doc.id, doc.archive_number, doc.doc_type.value, doc.doc_type.label,
                        doc.title, doc.document_date, _utc(doc.received_at), doc.page_count,
                        doc.status.value, doc.status.label, link.source.value, link.source.label,
                        link.confidence, link.created_by, _utc(link.created_at))


def _grouped(documents: list[FileDocument]) -> list[TypeGroup]:
    """By type (in the vocabulary's order), each oldest first by document date.

    Undated documents go after the dated ones, by the day they arrived.
    """
    def when(d: FileDocument) -> tuple[int, dt.date, str]:
        received = d.received_at.date() if d.received_at else dt.date.min
        if d.document_date:
            return (0, d.document_date, d.archive_number)
        return (1, received, d.archive_number)

    groups: dict[str, list[FileDocument]] = {}
    for d in documents:
        groups.setdefault(d.doc_type, []).append(d)
    return [TypeGroup(t, docs[0].doc_type_label, tuple(sorted(docs, key=when)))
            for t, docs in sorted(groups.items(), key=lambda kv: _TYPE_ORDER.get(kv[0], 999))]


def _mentions(details: dict[str, Any], numbers: set[str]) -> bool:
    """Does an audit event's detail name one of ``numbers`` (as a value or in a list)?"""
    for key in ("nis", "desde", "hacia"):
        value = details.get(key)
        values = value if isinstance(value, list) else [value]
        if any(str(v) in numbers for v in values if v is not None):
            return True
    return False


def _history(session: Session, nis: str, old: list[str], numbers: dict[int, str],
             limit: int) -> list[HistoryEntry]:
    """Audit events of the supply itself and of links to it, newest first.

    Link events name the NIS in their details (a string, or a list when a
    document arrived with several); they are fetched by action and JSON value
    and, for documents linked now, by document, then checked in Python.
    """
    every = {nis, *old}
    docs = [*numbers.values(), *(str(i) for i in numbers)]
    conditions = [
        and_(AuditEvent.object_type == "suministro", AuditEvent.object_id.in_(every)),
        and_(AuditEvent.action.in_(LINK_ACTIONS), AuditEvent.details["nis"].as_string().in_(every)),
        and_(AuditEvent.action == "vinculo_movido",
             or_(AuditEvent.details["hacia"].as_string().in_(every),
                 AuditEvent.details["desde"].as_string().in_(every))),
    ]
    if docs:
        conditions.append(and_(AuditEvent.object_type == "documento",
                               AuditEvent.object_id.in_(docs),
                               AuditEvent.action.in_([*LINK_ACTIONS, "vinculo_movido"])))
    events = session.scalars(select(AuditEvent).where(or_(*conditions))
                             .order_by(AuditEvent.id.desc()).limit(limit * 2)).all()
    wanted = [e for e in events
              if e.object_type == "suministro" or _mentions(e.details or {}, every)]
    moved_ids = {int(e.object_id) for e in wanted
                 if e.action == "vinculo_movido" and e.object_id.isdigit()}
    unknown = moved_ids - set(numbers)
    if unknown:
        found = session.execute(select(Document.id, Document.archive_number)
                                .where(Document.id.in_(unknown)))
        numbers = {**numbers, **{doc_id: number for doc_id, number in found}}
    return [_entry(e, numbers) for e in wanted[:limit]]


def _entry(e: AuditEvent, numbers: dict[int, str]) -> HistoryEntry:
    d = e.details or {}
    subject = f"NIS {e.object_id}" if e.object_type == "suministro" else e.object_id
    if e.action == "vinculo_movido" and e.object_id.isdigit():
        subject = numbers.get(int(e.object_id), f"documento {e.object_id}")
    description = _describe(e.action, d, subject)
    label = ACTION_LABELS.get(e.action) or action_label(e.action)
    return HistoryEntry(_utc(e.at), e.actor, e.action, label,
                        subject, description, d)


def _describe(action: str, d: dict[str, Any], subject: str) -> str:
    nis = d.get("nis")
    shown = ", ".join(nis) if isinstance(nis, list) else nis
    if action == "documento.vincular":
        origin = value_text("origen", d.get("origen")) or "-"
        return f"{subject} vinculado al NIS {shown} (origen: {origin})."
    if action == "documento.desvincular":
        return f"{subject} desvinculado del NIS {shown}."
    if action == "vinculo_movido":
        return f"{subject}: vínculo movido del NIS {d.get('desde')} al {d.get('hacia')}."
    if action == "suministro_renumerado":
        return (f"El NIS {subject[4:]} pasó a ser {d.get('hacia')} "
                f"({d.get('documentos', 0)} documento(s)).")
    if action == "suministros_fusionados":
        return (f"El NIS {subject[4:]} se unió a {d.get('hacia')} "
                f"({d.get('documentos', 0)} documento(s)).")
    if action == "suministro_actualizado":
        changes = d.get("cambios") or {}
        parts = [f"{k}: «{v.get('antes')}» → «{v.get('despues')}»" for k, v in changes.items()
                 if isinstance(v, dict)]
        return "; ".join(parts) or "Datos actualizados."
    return ""


# --- dispatches (fetched by the caller, see the module docstring) ---------------------------

class _ItemLike(Protocol):
    document_id: int | None
    archive_number: str


class _DispatchLike(Protocol):
    """What :func:`summarize_dispatches` reads from ``dispatch.DispatchView``."""

    id: int
    number: str
    destination: str
    regional_unit_code: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    items: Sequence[_ItemLike]

    @property
    def state(self) -> Any: ...
    @property
    def is_return(self) -> bool: ...


def summarize_dispatches(dispatches: Iterable[_DispatchLike],
                         document_ids: Iterable[int]) -> list[DispatchSummary]:
    """Dispatches that carried any of ``document_ids``, oldest first, with those documents."""
    ids = set(document_ids)
    out = []
    for d in dispatches:
        carried = tuple(i.archive_number for i in d.items if i.document_id in ids)
        if not carried:
            continue
        state = d.state
        out.append(DispatchSummary(
            d.id, d.number, str(getattr(state, "value", state)),
            str(getattr(state, "label", state)), d.destination, d.regional_unit_code,
            bool(d.is_return), _utc(d.created_at), _utc(d.sent_at), _utc(d.received_at), carried))
    never = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return sorted(out, key=lambda s: (s.created_at or never, s.id))
