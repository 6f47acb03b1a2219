"""The query behind ``GET /documents``: filters read from the request, one page of ids, the total.

Kept apart from the routes so the parsing rules (a bare date is a day in
Paraguay, an instant keeps its offset) read in one place. Filters combine
with AND; repeated values of one filter (``tipo=contrato&tipo=croquis``)
with OR, as in ``/search``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask import request
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from archive.enums import DocumentStatus, DocumentType, LabelledEnum
from archive.errors import ArchivoError
from archive.localtime import local_midnight, zone
from archive.models import Document, DocumentSupply, RegionalUnit, Supply
from archive.nis import normalize_nis_list
from archive.registry.models import SupplyAlias

from .common import split_values
from .errors import fail

_OFFSET_AFTER_SPACE = re.compile(r" (\d{2}:?\d{2})$")  # a "+" the query string turned into " "


@dataclass
class DocumentFilters:
    nis: list[str] = field(default_factory=list)
    types: list[LabelledEnum] = field(default_factory=list)  # DocumentType members
    statuses: list[LabelledEnum] = field(default_factory=list)  # DocumentStatus members
    regional: list[str] = field(default_factory=list)
    since: dt.datetime | None = None  # received at or after (UTC)
    before: dt.datetime | None = None  # received strictly before (UTC), for a day's end
    until: dt.datetime | None = None  # received at or before (UTC), for an exact instant


def _enum_values(name: str, enum: type[LabelledEnum]) -> list[LabelledEnum]:
    values: list[LabelledEnum] = []
    for raw in split_values(request.args.getlist(name)):
        try:
            values.append(enum.parse(raw))
        except ValueError as exc:
            fail(400, f"«{name}»: {exc}")
    return values


def _nis() -> list[str]:
    try:
        return normalize_nis_list(split_values(request.args.getlist("nis")))
    except ArchivoError as exc:
        fail(400, f"«nis»: {exc}")


def _regional(session: Session) -> list[str]:
    """Unit codes from codes or names as people write them ("sur", "Regional Sur")."""
    units = {key: code for code, name in session.execute(select(RegionalUnit.code,
                                                                RegionalUnit.name))
             for key in (code.casefold(), " ".join(name.split()).casefold())}
    asked = split_values(request.args.getlist("regional"))
    unknown = [v for v in asked if " ".join(v.split()).casefold() not in units]
    if unknown:
        fail(400, f"Unidad regional desconocida: {', '.join(unknown)}. Las unidades válidas "
                  "están en GET /api/v1/regional-units.")
    return sorted({units[" ".join(v.split()).casefold()] for v in asked})


def _moment(name: str) -> dt.date | dt.datetime | None:
    """``desde``/``hasta``: a bare date (a day in Paraguay) or an instant (UTC once read)."""
    raw = _OFFSET_AFTER_SPACE.sub(r"+\1", (request.args.get(name) or "").strip())
    if not raw:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return dt.date.fromisoformat(raw)
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        fail(400, f"«{name}» debe ser una fecha AAAA-MM-DD (día de Paraguay) o un instante ISO "
                  "8601 con su desfase, por ejemplo 2026-11-01 o 2026-11-01T09:30:00-03:00.")
    if moment.tzinfo is None:  # a wall-clock time without offset is Paraguay's too
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(dt.timezone.utc)


def read_filters(session: Session) -> DocumentFilters:
    """The request's filters, refused with a Spanish 400 when one cannot mean anything."""
    filters = DocumentFilters(nis=_nis(), types=_enum_values("tipo", DocumentType),
                              statuses=_enum_values("estado", DocumentStatus),
                              regional=_regional(session))
    since, until = _moment("desde"), _moment("hasta")
    if isinstance(since, dt.datetime):
        filters.since = since
    elif since is not None:  # from the start of that day in Paraguay
        filters.since = local_midnight(since)
    if isinstance(until, dt.datetime):
        filters.until = until
    elif until is not None:  # the whole day is included: before the next local midnight
        filters.before = local_midnight(until + dt.timedelta(days=1))
    end = filters.before or filters.until
    if filters.since is not None and end is not None and end <= filters.since:
        fail(400, "«hasta» es anterior a «desde».")
    return filters


def _where(query: Select, f: DocumentFilters) -> Select:  # type: ignore[type-arg]
    if f.nis:
        renamed = select(SupplyAlias.nis).where(SupplyAlias.old_nis.in_(f.nis))
        query = query.where(exists().where(
            DocumentSupply.document_id == Document.id,
            or_(DocumentSupply.nis.in_(f.nis), DocumentSupply.nis.in_(renamed))))
    if f.types:
        query = query.where(Document.doc_type.in_(f.types))
    if f.statuses:
        query = query.where(Document.status.in_(f.statuses))
    if f.regional:
        query = query.where(exists().where(
            DocumentSupply.document_id == Document.id, Supply.nis == DocumentSupply.nis,
            RegionalUnit.id == Supply.regional_unit_id, RegionalUnit.code.in_(f.regional)))
    if f.since is not None:
        query = query.where(Document.received_at >= f.since)
    if f.before is not None:
        query = query.where(Document.received_at < f.before)
    if f.until is not None:
        query = query.where(Document.received_at <= f.until)
    return query


def page_of_ids(session: Session, f: DocumentFilters, *, page: int,
                per_page: int) -> tuple[int, list[int]]:
    """(total matching, ids of this page), newest received first (id breaks ties)."""
    total = session.scalar(_where(select(func.count(Document.id)), f)) or 0
    ids = session.scalars(_where(select(Document.id), f)
                          .order_by(Document.received_at.desc(), Document.id.desc())
                          .limit(per_page).offset((page - 1) * per_page))
    return total, list(ids)
