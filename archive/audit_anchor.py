"""Anchors: copies of the audit chain head kept where the database cannot reach.

The seal (:mod:`archive.audit_key`) stops someone without the key; someone who
also stole the key can rewrite and re-seal the whole chain, or drop its newest
events. An anchor is the (event id, hash) of the chain head at one moment,
written outside the database: a later chain that no longer contains that exact
event is a rewritten one, whatever its seals say.

Each anchor goes to two places:

* ``<ARCHIVO_HOME>/anclas_auditoria``: one JSON line per anchor, opened with
  ``O_APPEND`` (never rewritten), owner-only (0600);
* the object store, ``auditoria/anclas/<UTC time>-<event>.json``: on S3 with
  object lock (``ARCHIVO_S3_OBJECT_LOCK``) it carries the same retention as the
  originals (write-once); otherwise it is a normal object, a second copy.

Every ``archivo check`` that finds the chain intact and every nightly check
write one. Each anchor line is sealed with the audit key, so a forged anchor
is reported as such instead of blaming an event.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import ChainProblem
from .audit_key import AuditKey
from .db import session_scope
from .errors import ArchivoError
from .localtime import fmt_datetime, utcnow
from .models import AuditEvent
from .services import Services
from .storage import AUDIT_ANCHORS_PREFIX, S3Store

FILE_NAME = "anclas_auditoria"
FILE_PLACE = "archivo de anclas"  # Spanish names of the two places, for messages
STORE_PLACE = "almacenamiento"
_ID_CHUNK = 500


@dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str
    at: dt.datetime  # UTC
    reason: str  # "check" (archivo check) | "programada" (nightly)

    def body(self) -> str:
        """Canonical text the seal covers."""
        return json.dumps({"evento": self.event_id, "hash": self.hash,
                           "fecha": self.at.isoformat(timespec="microseconds"),
                           "motivo": self.reason}, sort_keys=True, separators=(",", ":"))

    def line(self, key: AuditKey) -> str:
        data = json.loads(self.body())
        data["sello"] = key.seal(self.body())
        return json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass
class AnchorWrite:
    """Where one anchor went; ``failures`` are Spanish reasons for the places that failed."""

    anchor: Anchor
    places: list[str] = field(default_factory=list)
    locked: bool = False  # the store copy is under S3 object lock
    failures: list[str] = field(default_factory=list)


@dataclass
class AnchorCheck:
    anchors: int = 0  # distinct anchors read (from both places)
    problems: list[ChainProblem] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # anchors that are not ours (Spanish)


def file_path(services: Services) -> Path:
    return services.settings.home / FILE_NAME


def _head(session: Session) -> tuple[int, str] | None:
    row = session.execute(select(AuditEvent.id, AuditEvent.hash)
                          .order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def _append(path: Path, line: str) -> None:
    """Append only: the file is never opened for rewriting, and only its owner can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _store_key(anchor: Anchor) -> str:
    return f"{AUDIT_ANCHORS_PREFIX}{anchor.at:%Y%m%dT%H%M%S%fZ}-{anchor.event_id}.json"


def write(services: Services, key: AuditKey, reason: str,
          now: dt.datetime | None = None) -> AnchorWrite | None:
    """Anchor the current chain head in both places; None for an empty trail."""
    with session_scope(services.sessions) as session:
        head = _head(session)
    if head is None:
        return None
    anchor = Anchor(head[0], head[1], (now or utcnow()).astimezone(dt.timezone.utc), reason)
    line = anchor.line(key)
    result = AnchorWrite(anchor)
    try:
        _append(file_path(services), line)
        result.places.append(FILE_PLACE)
    except OSError as exc:
        result.failures.append(f"no se pudo escribir en {file_path(services)}: {exc.strerror}")
    store = services.store
    try:
        store.put_bytes(_store_key(anchor), line.encode(), "application/json")
        result.places.append(STORE_PLACE)
        result.locked = isinstance(store, S3Store) and bool(store.lock_mode)
    except (ArchivoError, OSError) as exc:
        result.failures.append(f"no se pudo guardar en el almacenamiento: {exc}")
    return result


def _parse(text: str, key: AuditKey) -> Anchor | None:
    """The anchor in one line, or None if it is malformed or its seal is not ours."""
    try:
        data: dict[str, Any] = json.loads(text)
        anchor = Anchor(int(data["evento"]), str(data["hash"]),
                        dt.datetime.fromisoformat(data["fecha"]), str(data["motivo"]))
    except (ValueError, KeyError, TypeError):
        return None
    return anchor if key.verify(anchor.body(), data.get("sello")) else None


def _file_lines(services: Services) -> Iterator[tuple[str, str, str]]:
    """(place, where exactly, text) of each anchor line in the file."""
    path = file_path(services)
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, text in enumerate(fh, 1):
                if text.strip():
                    yield FILE_PLACE, f"{FILE_PLACE} ({path}, línea {number})", text
    except FileNotFoundError:
        return


def _store_lines(services: Services) -> Iterator[tuple[str, str, str]]:
    store = services.store
    for info in store.iterate(AUDIT_ANCHORS_PREFIX):
        text = store.get_bytes(info.key).decode("utf-8", "replace")
        yield STORE_PLACE, f"{STORE_PLACE} ({info.key})", text


def read(services: Services, key: AuditKey) -> tuple[dict[Anchor, list[str]], list[str]]:
    """Every anchor from both places (anchor -> where it was found) and the invalid ones."""
    anchors: dict[Anchor, list[str]] = {}
    invalid: list[str] = []
    for lines in (_file_lines(services), _store_lines(services)):
        try:
            found = list(lines)
        except (ArchivoError, OSError) as exc:
            invalid.append(f"No se pudieron leer las anclas: {exc}")
            continue
        for place, where, text in found:
            anchor = _parse(text, key)
            if anchor is None:
                invalid.append(f"Ancla no válida en {where}: no tiene el sello de la clave de "
                               "auditoría (alterada o ajena).")
            elif place not in anchors.setdefault(anchor, []):
                anchors[anchor].append(place)
    return anchors, invalid


def _stored_hashes(services: Services, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    with session_scope(services.sessions) as session:
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start:start + _ID_CHUNK]
            for event_id, event_hash in session.execute(
                    select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))):
                out[event_id] = event_hash
    return out


def _disagreement(anchor: Anchor, places: list[str], stored: str | None,
                  last_good: int | None, later: int) -> ChainProblem:
    when = f"el ancla del {fmt_datetime(anchor.at)} ({' y '.join(places)})"
    since = (f" entre el evento {last_good + 1} y el {anchor.event_id}"
             if last_good is not None and last_good < anchor.event_id else "")
    more = f" Tampoco coinciden {later} ancla(s) posterior(es)." if later else ""
    if stored is None:
        return ChainProblem(anchor.event_id, f"El evento {anchor.event_id} no está en la base, "
                                             f"pero {when} lo registró: se borraron eventos"
                                             f"{since}.{more}")
    return ChainProblem(anchor.event_id, f"El evento {anchor.event_id} no coincide con {when}: "
                                         f"se modificaron eventos{since or ' hasta este'} y se "
                                         f"volvió a calcular la cadena.{more}")


def check(services: Services, key: AuditKey) -> AnchorCheck:
    """Compare every anchor with the database; the first one that disagrees is reported."""
    anchors, invalid = read(services, key)
    result = AnchorCheck(anchors=len(anchors), invalid=invalid)
    ordered = sorted(anchors, key=lambda a: (a.event_id, a.at))
    stored = _stored_hashes(services, sorted({a.event_id for a in ordered}))
    bad = [a for a in ordered if stored.get(a.event_id) != a.hash]
    if bad:
        first = bad[0]
        good = [a.event_id for a in ordered
                if a.event_id < first.event_id and stored.get(a.event_id) == a.hash]
        result.problems.append(_disagreement(first, anchors[first], stored.get(first.event_id),
                                             good[-1] if good else None, len(bad) - 1))
    return result
