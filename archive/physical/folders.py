"""Physical folders (carpetas): create, move between boxes, and where documents' paper is kept."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.errors import ArchivoError
from archive.identifiers import ARCHIVE_PREFIX, sequence_number
from archive.localtime import fmt_date
from archive.models import Document, utcnow
from archive.nis import normalize_nis

from .codes import FOLDER_PREFIX, claim_code, normalize_code
from .holds import AwayCheck, document_key
from .locations import NotFound, chain, first_hold_of, get_location, node_label, path_text
from .models import DocumentPlace, Folder, Loan, Location, Move

_ARCHIVE = re.compile(rf"{ARCHIVE_PREFIX}-?(\d{{4}})-?(\d{{1,6}})", re.IGNORECASE)


def get_folder(session: Session, code: str) -> Folder:
    found = session.scalar(select(Folder).where(Folder.code == normalize_code(code)))
    if found is None:
        raise NotFound(f"No existe la carpeta {code}.")
    return found


def open_loan(session: Session, folder: Folder) -> Loan | None:
    return session.scalar(select(Loan).where(Loan.open_folder_id == folder.id))


def _nis(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return normalize_nis(value)


def create_folder(session: Session, *, code: str | None = None, nis: str | None = None,
                  description: str = "", location: str | None = None, actor: str,
                  now: dt.datetime | None = None) -> Folder:
    """A new folder; its first placement (if any) is recorded as a move from nowhere."""
    now = now or utcnow()
    target = get_location(session, location) if location else None
    folder = Folder(code=claim_code(session, code, FOLDER_PREFIX), nis=_nis(nis),
                    description=" ".join((description or "").split())[:300],
                    location_id=target.id if target else None, created_at=now,
                    created_by=actor, updated_at=now)
    session.add(folder)
    session.flush()
    if target is not None:
        session.add(Move(folder_id=folder.id, from_location_id=None, to_location_id=target.id,
                         at=now, actor=actor, note="alta de la carpeta"))
    audit.record(session, actor, "fisico.carpeta_crear", "carpeta", folder.code,
                 {"nis": folder.nis, "descripcion": folder.description,
                  "ubicacion": path_text(target) if target else None})
    return folder


def update_folder(session: Session, code: str, *, nis: str | None, description: str,
                  actor: str, now: dt.datetime | None = None) -> Folder:
    folder = get_folder(session, code)
    before = {"nis": folder.nis, "descripcion": folder.description}
    folder.nis = _nis(nis)
    folder.description = " ".join((description or "").split())[:300]
    folder.updated_at = now or utcnow()
    session.flush()
    audit.record(session, actor, "fisico.carpeta_editar", "carpeta", folder.code,
                 {"antes": before, "nis": folder.nis, "descripcion": folder.description})
    return folder


def folder_hold_codes(folder: Folder) -> list[str]:
    """The folder's own code and those of the boxes and shelves around it."""
    return [folder.code] + [n.code for n in chain(folder.location)][::-1]


def move_folder(session: Session, code: str, *, to: str, actor: str, away: AwayCheck,
                note: str = "", now: dt.datetime | None = None) -> Move:
    """Put a folder in another box (or any node); refused while lent or dispatched."""
    folder = get_folder(session, code)
    target = get_location(session, to)
    if folder.location_id == target.id:
        raise ArchivoError(f"La carpeta {folder.code} ya está en {node_label(target)}.")
    loan = open_loan(session, folder)
    if loan is not None:
        raise ArchivoError(f"No se puede mover la carpeta {folder.code}: está prestada a "
                           f"{loan.borrower}. Registre primero la devolución.")
    held = first_hold_of(session, folder_hold_codes(folder) + [n.code for n in chain(target)],
                         away, moving=True)
    if held is not None:
        raise ArchivoError(f"No se puede mover la carpeta {folder.code}: {held[0]} está "
                           f"{held[1].reason}.")
    now = now or utcnow()
    move = Move(folder_id=folder.id, from_location_id=folder.location_id,
                to_location_id=target.id, at=now, actor=actor, note=note or "")
    before = path_text(folder.location)
    folder.location_id = target.id
    folder.updated_at = now
    session.add(move)
    session.flush()
    session.refresh(folder)
    audit.record(session, actor, "fisico.carpeta_mover", "carpeta", folder.code,
                 {"desde": before, "hacia": path_text(target), "nota": note or ""})
    return move


def find_document(session: Session, archive_number: str) -> Document:
    """By archive number as typed or scanned ("arc-2026-12" is ARC-2026-000012)."""
    m = _ARCHIVE.search((archive_number or "").strip())
    if m is None:
        raise ArchivoError(f"«{archive_number}» no es un número de archivo (por ejemplo "
                           "ARC-2026-000123).")
    number = sequence_number(ARCHIVE_PREFIX, m.group(1), int(m.group(2)))
    doc = session.scalar(select(Document).where(Document.archive_number == number))
    if doc is None:
        raise NotFound(f"No existe el documento {number} en el archivo.")
    return doc


def place_document(session: Session, archive_number: str, *, folder: str | None = None,
                   location: str | None = None, actor: str, away: AwayCheck,
                   now: dt.datetime | None = None) -> DocumentPlace:
    """Record that a document's paper original is kept in ``folder`` or in ``location``.

    Refused while the original itself is away (at a regional unit, in transit,
    missing) and while the folder or box that would hold it is lent or away:
    the record must describe paper someone can put there now.
    """
    if bool(folder) == bool(location):
        raise ArchivoError("Indique una carpeta o una caja (solo una) para guardar el original.")
    doc = find_document(session, archive_number)
    in_folder = get_folder(session, folder) if folder else None
    in_location = get_location(session, location) if location else None
    _check_original_here(session, doc, away)
    _check_container_here(session, in_folder, in_location, away)
    place = session.get(DocumentPlace, doc.id)
    before = describe_place(place) if place else None
    if place is None:
        place = DocumentPlace(document_id=doc.id)
        session.add(place)
    place.folder_id = in_folder.id if in_folder else None
    place.location_id = in_location.id if in_location else None
    place.placed_at = now or utcnow()
    place.placed_by = actor
    session.flush()
    session.refresh(place)
    audit.record(session, actor, "fisico.documento_ubicar", "documento", doc.archive_number,
                 {"antes": before, "ahora": describe_place(place)})
    return place


def _check_original_here(session: Session, doc: Document, away: AwayCheck) -> None:
    """The paper of an original recorded at a regional unit (or travelling) is not here."""
    hold = away(session, document_key(doc.id))
    if hold is not None and hold.blocks_move:
        raise ArchivoError(f"El original {doc.archive_number} está {hold.reason}: no se puede "
                           "registrar en una carpeta o caja del archivo hasta que vuelva con "
                           "una devolución.")


def _check_container_here(session: Session, folder: Folder | None, location: Location | None,
                          away: AwayCheck) -> None:
    """A lent folder, or a folder or box away in a dispatch, cannot receive paper now."""
    if folder is not None:
        loan = open_loan(session, folder)
        if loan is not None:
            raise ArchivoError(f"La carpeta {folder.code} está prestada a {loan.borrower} "
                               f"desde el {fmt_date(loan.lent_at)}: registre el original en "
                               "ella cuando se devuelva.")
        codes = folder_hold_codes(folder)
    else:
        codes = [n.code for n in chain(location)][::-1]
    held = first_hold_of(session, codes, away, moving=True)
    if held is not None:
        raise ArchivoError(f"No se puede guardar el original allí: {held[0]} está "
                           f"{held[1].reason}.")


def remove_document_place(session: Session, archive_number: str, *, actor: str) -> bool:
    doc = find_document(session, archive_number)
    place = session.get(DocumentPlace, doc.id)
    if place is None:
        return False
    before = describe_place(place)
    session.delete(place)
    session.flush()
    audit.record(session, actor, "fisico.documento_quitar", "documento", doc.archive_number,
                 {"antes": before})
    return True


def describe_place(place: DocumentPlace) -> str:
    """"carpeta CARP-000001 en Depósito … › Caja CAJA-000042" or the box path."""
    if place.folder is not None:
        return f"carpeta {place.folder.code} ({path_text(place.folder.location)})"
    return path_text(place.location)


def document_place(session: Session, document_id: int) -> DocumentPlace | None:
    """For the document page: where its paper is, or None when nobody recorded it."""
    return session.get(DocumentPlace, document_id)


def resolve_code(session: Session, code: str) -> tuple[str, str] | None:
    """("carpeta" | "ubicacion", normalized code) for a scanned code, None if unknown."""
    try:
        code = normalize_code(code)
    except ArchivoError:
        return None
    if session.scalar(select(Folder.id).where(Folder.code == code)) is not None:
        return "carpeta", code
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        return "ubicacion", code
    return None
