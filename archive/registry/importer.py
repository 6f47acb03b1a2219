"""Import the supply master data exported by the commercial system (OPEN-SGC).

The file is streamed (never loaded whole) in batches; each batch is one
transaction that upserts its supplies, audits the changed ones and advances
the progress record of the file. A crash therefore leaves whole batches
only, and running the same file again resumes after the last committed one
(the file is identified by its SHA-256 and the mapping used). Running a file
that already finished imports it again from the start: the upsert is
idempotent, so it reports everything unchanged, and it restores the data if
something newer overwrote it in between.
"""

from __future__ import annotations


from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.enums import SupplyStatus
from archive.errors import ArchivoError
from archive.models import DocumentSupply, RegionalUnit, Supply, utcnow
from archive.nis import normalize_nis
from archive.review_reasons import refresh_all
from archive.services import Services
from archive.signals import mark_changed

from .auditing import record_many
from .mapping import FIELDS, Mapping, fold, load_mapping
from .models import SupplyAlias, SupplyImport
from .source import FileInfo, Record, describe, open_records, scan

DEFAULTS: dict[str, Any] = {"holder_name": "", "holder_document": "", "address": "", "city": "",
                            "regional_unit_id": None, "tariff": "", "status": SupplyStatus.ACTIVO}
LABELS = {"holder_name": "titular", "holder_document": "documento", "address": "dirección",
          "city": "ciudad", "regional_unit_id": "regional", "tariff": "tarifa", "status": "estado"}
KEEP_REJECTIONS = 200


@dataclass(frozen=True)
class Rejection:
    line: int
    nis: str  # the cell as written
    reason: str  # Spanish


@dataclass
class ImportReport:
    path: Path
    sha256: str
    encoding: str
    delimiter: str
    columns: dict[str, str]  # field key -> column name found in the file
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    resumed_after: int = 0  # data records skipped because an earlier run committed them
    rejections: list[Rejection] = field(default_factory=list)  # the first KEEP_REJECTIONS

    @property
    def format(self) -> str:
        return describe(FileInfo(self.sha256, self.encoding, self.delimiter, 0, 0))


class _Reject(Exception):
    pass


class RowParser:
    """Turns one record into Supply values, or a Spanish reason to reject it."""

    def __init__(self, header: list[str], found: dict[str, int], mapping: Mapping,
                 units: dict[str, int], unit_codes: list[str], aliases: dict[str, str]) -> None:
        self.width = len(header)
        self.found = found
        self.units = units
        self.unit_codes = unit_codes
        self.aliases = aliases
        self.statuses = mapping.status_lookup()
        self.status_names = ", ".join(v for values in mapping.statuses.values() for v in values)
        self.seen: set[int] = set()  # "1"+NIS as int: keeps leading zeros, a third of a str's size
        self.limits = {a: Supply.__table__.c[a].type.length for a in DEFAULTS
                       if a not in ("regional_unit_id", "status")}

    def parse(self, rec: Record) -> dict[str, Any]:
        cells = rec.cells
        if len(cells) != self.width:
            if len(cells) > self.width and not any(c.strip() for c in cells[self.width:]):
                cells = cells[:self.width]  # a trailing separator
            else:
                raise _Reject(f"la fila tiene {len(cells)} columnas y el encabezado {self.width}")
        raw = cells[self.found["nis"]].strip()
        if not raw:
            raise _Reject("falta el NIS")
        try:
            nis = normalize_nis(raw)
        except ArchivoError as exc:
            raise _Reject(f"NIS inválido: {exc}") from None
        if nis in self.aliases:
            raise _Reject(f"el NIS {nis} fue reemplazado por {self.aliases[nis]} "
                          "(renumerado o fusionado); corrija la exportación")
        key = int("1" + nis)
        if key in self.seen:
            raise _Reject(f"NIS {nis} repetido en el archivo; se conserva la primera fila")
        row: dict[str, Any] = {"nis": nis}
        for fkey, idx in self.found.items():
            attr = FIELDS[fkey]
            if attr == "nis":
                continue
            value = " ".join(cells[idx].split())
            if attr == "regional_unit_id":
                row[attr] = self._unit(value)
            elif attr == "status":
                row[attr] = self._status(value)
            else:
                if len(value) > self.limits[attr]:
                    raise _Reject(f"{LABELS[attr]} demasiado largo ({len(value)} caracteres; "
                                  f"máximo {self.limits[attr]})")
                row[attr] = value
        self.seen.add(key)
        return row

    def _unit(self, value: str) -> int | None:
        if not value:
            return None
        unit = self.units.get(fold(value))
        if unit is None:
            raise _Reject(f"unidad regional desconocida «{value}» (códigos válidos: "
                          f"{', '.join(self.unit_codes)})")
        return unit

    def _status(self, value: str) -> SupplyStatus:
        if not value:
            return SupplyStatus.ACTIVO
        status = self.statuses.get(fold(value))
        if status is None:
            raise _Reject(f"estado desconocido «{value}» (se acepta: {self.status_names})")
        return status


def unit_lookup(session: Session) -> tuple[dict[str, int], list[str]]:
    """Folded code, name and name without «Regional» -> unit id."""
    lookup: dict[str, int] = {}
    codes = []
    for unit in session.scalars(select(RegionalUnit).order_by(RegionalUnit.code)):
        codes.append(unit.code)
        for key in (fold(unit.name), fold(unit.name).removeprefix("regional_")):
            lookup.setdefault(key, unit.id)
    for unit_id, code in session.execute(select(RegionalUnit.id, RegionalUnit.code)):
        lookup[fold(code)] = unit_id  # codes win over names
    return lookup, codes


def _upsert_statement(session: Session, provided: list[str]):  # type: ignore[no-untyped-def]
    """INSERT .. ON CONFLICT (nis) DO UPDATE .. WHERE something differs.

    The rows were diffed against a fresh SELECT in the same transaction, so the
    conflict branch only matters if another writer inserted the NIS meanwhile.
    """
    table = Supply.__table__
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    cols = [a for a in provided if a != "nis"]
    set_ = {a: ins.excluded[a] for a in cols} | {"updated_at": ins.excluded.updated_at}
    where = or_(*[table.c[a].is_distinct_from(ins.excluded[a]) for a in cols]) if cols else None
    return ins.on_conflict_do_update(index_elements=[table.c.nis], set_=set_, where=where)


@dataclass
class _BatchResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _write_batch(session: Session, rows: list[dict[str, Any]], provided: list[str], actor: str,
                 source: str, unit_codes: dict[int, str]) -> _BatchResult:
    result = _BatchResult()
    if not rows:
        return result
    cols = [a for a in provided if a != "nis"]
    table = Supply.__table__
    query = select(table.c.nis, *[table.c[a] for a in cols]).where(
        table.c.nis.in_([r["nis"] for r in rows]))
    existing = {r[0]: r for r in session.execute(query)}
    now = utcnow()
    writes: list[dict[str, Any]] = []
    events = []
    reindex: list[str] = []
    for row in rows:
        old = existing.get(row["nis"])
        full = {"nis": row["nis"], **DEFAULTS, **row, "updated_at": now}
        if old is None:
            result.inserted += 1
            writes.append(full)
            if full["regional_unit_id"] is not None:
                reindex.append(row["nis"])
            continue
        changed = {a: (old[i + 1], row[a]) for i, a in enumerate(cols) if old[i + 1] != row[a]}
        if not changed:
            result.unchanged += 1
            continue
        result.updated += 1
        writes.append(full)
        if "regional_unit_id" in changed:
            reindex.append(row["nis"])
        diff = {LABELS[a]: {"antes": _shown(a, b, unit_codes), "despues": _shown(a, n, unit_codes)}
                for a, (b, n) in changed.items()}
        events.append(("suministro_actualizado", "suministro", row["nis"],
                       {"origen": source, "cambios": diff}))
    if writes:
        session.execute(_upsert_statement(session, provided), writes)
    record_many(session, actor, events)
    if reindex:  # the index shows each document's regional units
        docs = session.scalars(select(DocumentSupply.document_id)
                               .where(DocumentSupply.nis.in_(reindex)).distinct()).all()
        mark_changed(session, docs)
    return result


def _shown(attr: str, value: Any, unit_codes: dict[int, str]) -> Any:
    if attr == "regional_unit_id":
        return unit_codes.get(value) if value is not None else None
    if isinstance(value, SupplyStatus):
        return value.value
    return value


ProgressFn = Callable[[int, int], None]
RejectFn = Callable[[Rejection], None]


def import_supplies(services: Services, path: Path | str, *,
                    mapping: Mapping | Path | str | None = None, actor: str,
                    batch_size: int = 5000, progress: ProgressFn | None = None,
                    on_reject: RejectFn | None = None) -> ImportReport:
    """Upsert every supply of the export; see the module docstring for crash and re-run rules.

    ``progress(records_done, records_estimated)`` runs after each committed
    batch; ``on_reject`` receives every rejected row (the report keeps the first ones).
    """
    path = Path(path)
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(Path(mapping) if mapping else None)
    info = scan(path)
    with open_records(path, info) as (header, records):
        return _import(services, path, info, header, records, mapping, actor, batch_size,
                       progress, on_reject)


def _import(services: Services, path: Path, info: FileInfo, header: list[str],
            records: Iterator[Record], mapping: Mapping, actor: str, batch_size: int,
            progress: ProgressFn | None, on_reject: RejectFn | None) -> ImportReport:
    found = mapping.resolve(header)
    provided = [FIELDS[k] for k in found]
    report = ImportReport(path, info.sha256, info.encoding, info.delimiter,
                          {k: header[i].strip() for k, i in found.items()})
    total = max(info.lines - 1, 0)
    fingerprint = mapping.fingerprint()

    with session_scope(services.sessions) as session:
        units, codes = unit_lookup(session)
        unit_codes = dict(session.execute(select(RegionalUnit.id, RegionalUnit.code)).all())
        aliases = dict(session.execute(select(SupplyAlias.old_nis, SupplyAlias.nis)).all())
        run = session.get(SupplyImport, info.sha256)
        if run is not None and run.finished_at is None and run.mapping_hash == fingerprint:
            skip = run.rows_done
            report.inserted, report.updated = run.inserted, run.updated
            report.unchanged = run.unchanged
        else:
            skip = 0
            if run is None:
                run = SupplyImport(sha256=info.sha256)
                session.add(run)
            run.mapping_hash, run.rows_done, run.finished_at = fingerprint, 0, None
            run.inserted = run.updated = run.unchanged = 0
            run.started_at = utcnow()
        run.filename, run.actor, run.updated_at = path.name[:300], actor, utcnow()
    report.resumed_after = skip

    parser = RowParser(header, found, mapping, units, codes, aliases)
    source = f"importación {path.name}"

    def reject(rec: Record, reason: str) -> None:
        raw = rec.cells[found["nis"]].strip() if len(rec.cells) > found["nis"] else ""
        rej = Rejection(rec.line, raw, reason)
        report.rejected += 1
        if len(report.rejections) < KEEP_REJECTIONS:
            report.rejections.append(rej)
        if on_reject is not None:
            on_reject(rej)

    def commit(batch: list[dict[str, Any]], done: int, final: bool) -> None:
        with session_scope(services.sessions) as session:
            res = _write_batch(session, batch, provided, actor, source, unit_codes)
            report.inserted += res.inserted
            report.updated += res.updated
            report.unchanged += res.unchanged
            run = session.get(SupplyImport, info.sha256)
            assert run is not None
            run.rows_done, run.updated_at = done, utcnow()
            run.inserted, run.updated = report.inserted, report.updated
            run.unchanged = report.unchanged
            if final:
                run.finished_at = run.updated_at
                refresh_all(session)  # numbers read by OCR may be known (or unknown) now
                if report.inserted or report.updated:
                    summary = {"archivo": path.name, "insertados": report.inserted,
                               "actualizados": report.updated, "sin_cambios": report.unchanged,
                               "rechazados": report.rejected}
                    record_many(session, actor, [("suministros_importados", "importacion",
                                                  info.sha256[:16], summary)])
        if progress is not None:
            progress(done, max(total, done))

    batch: list[dict[str, Any]] = []
    done = 0
    for rec in records:
        done += 1
        try:
            row = parser.parse(rec)
        except _Reject as exc:
            reject(rec, str(exc))
            continue
        if done <= skip:
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            commit(batch, done, final=False)
            batch = []
    commit(batch, done, final=True)
    return report


