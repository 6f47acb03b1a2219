"""The location tree (depósito > sala > estante > caja): levels, nodes, moving a node.

A node's level is its depth; its parent is always one level up, so the tree
can never hold a cycle and "a box inside a box" is refused. Level names and
code prefixes come from the ``physical_levels`` table (see ``models``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.errors import ArchivoError
from archive.models import utcnow

from .codes import claim_code, normalize_code
from .holds import AwayCheck
from .models import Folder, Location, LocationLevel, Move


class NotFound(ArchivoError):
    """What was asked for does not exist (the web answers 404)."""


def levels(session: Session) -> list[LocationLevel]:
    return list(session.scalars(select(LocationLevel).order_by(LocationLevel.depth)))


def set_level(session: Session, depth: int, *, name: str, code_prefix: str | None = None,
              actor: str) -> LocationLevel:
    """Rename a level or add the next one (depth = deepest + 1); codes already printed stay."""
    name = " ".join((name or "").split())
    if not name:
        raise ArchivoError("El nivel necesita un nombre (por ejemplo «Estante»).")
    existing = levels(session)
    level = session.get(LocationLevel, depth)
    if level is None:
        if depth != len(existing) + 1:
            raise ArchivoError(f"Solo se puede agregar el nivel {len(existing) + 1} "
                               f"(debajo de «{existing[-1].name if existing else '—'}»).")
        level = LocationLevel(depth=depth, name=name, code_prefix="")
        session.add(level)
    before = {"nombre": level.name, "prefijo": level.code_prefix}
    level.name = name[:40]
    prefix = code_prefix if code_prefix is not None else (level.code_prefix or name)
    level.code_prefix = normalize_code(prefix)[:12]
    session.flush()
    audit.record(session, actor, "fisico.nivel", "nivel", depth,
                 {"antes": before, "nombre": level.name, "prefijo": level.code_prefix})
    return level


def get_location(session: Session, code: str) -> Location:
    found = session.scalar(select(Location).where(Location.code == normalize_code(code)))
    if found is None:
        raise NotFound(f"No existe la ubicación {code}.")
    return found


def chain(location: Location | None) -> list[Location]:
    """The node and its ancestors, top first (depósito ... caja)."""
    out: list[Location] = []
    while location is not None:
        out.append(location)
        location = location.parent
    return out[::-1]


def node_label(location: Location) -> str:
    """"Caja CAJA-000042", "Caja Contratos 2016 (CAJA-000042)" or "Sala 1 (SALA-000001)"."""
    level = location.level.name
    name = location.name
    if name and name != location.code:
        # "Sala 1" is already a sala: no "Sala Sala 1".
        said = name if name.lower().startswith(level.lower()) else f"{level} {name}"
        return f"{said} ({location.code})"
    return f"{level} {location.code}"


def path_text(location: Location | None) -> str:
    """Where a thing is, in words: "Depósito Central › Sala 1 › Estante 3 › Caja CAJA-000042"."""
    if location is None:
        return "sin ubicación registrada"
    return " › ".join(node_label(n) for n in chain(location))


def add_location(session: Session, *, parent: str | None, name: str = "", code: str | None = None,
                 note: str = "", actor: str, now: dt.datetime | None = None) -> Location:
    """A new node under ``parent`` (a code; None for a top-level depósito)."""
    parent_node = get_location(session, parent) if parent else None
    depth = parent_node.depth + 1 if parent_node else 1
    level = session.get(LocationLevel, depth)
    if level is None:
        raise ArchivoError(f"{node_label(parent_node) if parent_node else 'La raíz'} está en el "
                           "último nivel del árbol: no puede contener otras ubicaciones.")
    node = Location(code=claim_code(session, code, level.code_prefix),
                    name=" ".join((name or "").split())[:120], depth=depth,
                    parent_id=parent_node.id if parent_node else None, note=note or "",
                    created_at=now or utcnow(), created_by=actor)
    session.add(node)
    session.flush()
    audit.record(session, actor, "fisico.ubicacion_crear", "ubicacion", node.code,
                 {"nivel": level.name, "nombre": node.name,
                  "dentro_de": parent_node.code if parent_node else None})
    return node


def first_hold_of(session: Session, codes: list[str], away: AwayCheck, *, moving: bool):
    """The first dispatch hold among ``codes`` that stops this action (or None)."""
    for code in codes:
        hold = away(session, code)
        if hold is not None and (hold.blocks_move or not moving):
            return code, hold
    return None


def move_location(session: Session, code: str, *, to: str, actor: str, away: AwayCheck,
                  note: str = "", now: dt.datetime | None = None) -> Move:
    """Put a node (say a box) under another parent of the level above it."""
    node = get_location(session, code)
    target = get_location(session, to)
    if target.depth != node.depth - 1:
        above = session.get(LocationLevel, node.depth - 1)
        raise ArchivoError(f"{node_label(node)} solo puede ir dentro de un(a) "
                           f"{above.name.lower() if above else 'ubicación de nivel superior'}; "
                           f"{node_label(target)} no lo es.")
    if node.parent_id == target.id:
        raise ArchivoError(f"{node_label(node)} ya está en {node_label(target)}.")
    held = first_hold_of(session, [n.code for n in chain(node)] + [n.code for n in chain(target)],
                         away, moving=True)
    if held is not None:
        raise ArchivoError(f"No se puede mover {node_label(node)}: {held[0]} está "
                           f"{held[1].reason}.")
    move = Move(location_id=node.id, from_location_id=node.parent_id, to_location_id=target.id,
                at=now or utcnow(), actor=actor, note=note or "")
    before = path_text(node.parent)
    node.parent_id = target.id
    session.add(move)
    session.flush()
    session.refresh(node)
    audit.record(session, actor, "fisico.ubicacion_mover", "ubicacion", node.code,
                 {"desde": before, "hacia": path_text(target), "nota": note or ""})
    return move


def contents_count(session: Session) -> dict[int, int]:
    """Folders directly in each node (for the tree page)."""
    from sqlalchemy import func

    return {loc: n for loc, n in session.execute(
        select(Folder.location_id, func.count()).where(Folder.location_id.is_not(None))
        .group_by(Folder.location_id))}
