"""Label codes of boxes and folders: how they are read, checked and handed out.

The rule is the one dispatches use for labels (``dispatch.refs.label_code``):
upper case, blanks become hyphens, letters, digits, ``. _ / -``, at most 60
characters. It is repeated here because the core may not import
``dispatch``; a test checks both agree, so a code printed on a box is the
same string a dispatch records and ``where_is`` finds.

One more rule of our own: a code must contain a letter. A keyboard-wedge
reader types the code into the search box, and a code made only of digits
would shadow a NIS search.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import ArchivoError
from archive.sequences import next_value

from .models import Folder, Location

_LABEL = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,59}$")
FOLDER_PREFIX = "CARP"
SEQUENCE_PREFIX = "FIS-"  # sequence names: FIS-CAJA, FIS-CARP, ... (apart from ARC-/ENV-)


def normalize_code(text: str) -> str:
    """``" caja 42 "`` -> ``"CAJA-42"``; refuses what a label cannot carry."""
    code = " ".join((text or "").split()).upper().replace(" ", "-")
    if not _LABEL.match(code):
        raise ArchivoError(f"«{text}» no es un código de etiqueta válido: use letras, dígitos, "
                           "punto, guion o barra (hasta 60 caracteres), por ejemplo CAJA-0042.")
    if not any(c.isalpha() for c in code):
        raise ArchivoError(f"El código «{code}» debe tener al menos una letra, para que al "
                           "escanearlo en el buscador no se confunda con un NIS.")
    return code


def looks_like_code(text: str) -> str | None:
    """The normalized code when ``text`` could be one (for the search box), else None."""
    try:
        return normalize_code(text)
    except ArchivoError:
        return None


def code_taken(session: Session, code: str) -> bool:
    """Codes are unique across boxes/locations and folders: a scan must name one thing."""
    return (session.scalar(select(Location.id).where(Location.code == code)) is not None
            or session.scalar(select(Folder.id).where(Folder.code == code)) is not None)


def claim_code(session: Session, wanted: str | None, prefix: str) -> str:
    """The code asked for (normalized, refused if in use) or the next free ``PREFIX-000042``."""
    if wanted and wanted.strip():
        code = normalize_code(wanted)
        if code_taken(session, code):
            raise ArchivoError(f"El código {code} ya está en uso por otra ubicación o carpeta.")
        return code
    prefix = normalize_code(prefix)
    while True:  # skips numbers someone already typed by hand
        code = f"{prefix}-{next_value(session, SEQUENCE_PREFIX + prefix):06d}"
        if not code_taken(session, code):
            return code
