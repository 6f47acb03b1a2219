"""Identify an uploaded file from its bytes, never from its name.

Only four kinds are archived: PDF, TIFF, JPEG and PNG. Detection uses the
``filetype`` library plus a few magic checks it lacks (BigTIFF, a PDF header
after leading junk, JPEG data after leading junk). Anything else is rejected
with a Spanish message that says what the file seems to be.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

import filetype

from ingest.errors import RejectedInput
from ingest.limits import DEFAULT_LIMITS, MiB, Limits

Kind = Literal["pdf", "tiff", "jpeg", "png"]

HEAD_BYTES = 8192  # what filetype reads too
PDF_HEADER_WINDOW = 1024  # PDF readers accept junk before "%PDF-" up to here
JPEG_JUNK_WINDOW = 1024  # leading junk tolerated before a JPEG start-of-image

_JPEG_SOI = b"\xff\xd8\xff"
_BIGTIFF = (b"II+\x00", b"MM\x00+")
_CLASSIC_TIFF = (b"II*\x00", b"MM\x00*")


@dataclass(frozen=True)
class FileKind:
    """What a file really is. ``offset`` is the count of junk bytes before the real data."""

    kind: Kind
    media_type: str
    extension: str
    offset: int = 0


PDF = FileKind("pdf", "application/pdf", "pdf")
TIFF = FileKind("tiff", "image/tiff", "tif")
JPEG = FileKind("jpeg", "image/jpeg", "jpg")
PNG = FileKind("png", "image/png", "png")
KINDS: dict[str, FileKind] = {k.kind: k for k in (PDF, TIFF, JPEG, PNG)}

_BY_MIME = {"application/pdf": PDF, "image/tiff": TIFF, "image/jpeg": JPEG, "image/png": PNG}

_HTML = re.compile(rb"<(!doctype\s+html|html|head|body|script|meta|title|div|form)\b", re.I)


def sniff(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> FileKind:
    """Return the kind of the file at ``path`` or raise ``RejectedInput``.

    Codes: ``vacio`` (0 bytes), ``tamano`` (over ``limits.max_bytes``),
    ``tipo`` (not a PDF, TIFF, JPEG or PNG).
    """
    size = os.stat(path).st_size
    if size == 0:
        raise RejectedInput("vacio", "El archivo está vacío (0 bytes). Vuelva a escanear el documento.")
    if size > limits.max_bytes:
        raise RejectedInput(
            "tamano",
            f"El archivo pesa {_decimal(size / MiB)} MB y el máximo admitido es "
            f"{_decimal(limits.max_bytes / MiB, 0)} MB. Divida el documento en partes o "
            "escanéelo a menor resolución (300 ppp bastan) y vuelva a cargarlo.",
        )
    head = read_head(path)
    found = detect(head)
    if found is None:
        raise RejectedInput(
            "tipo",
            f"El archivo no es un PDF, TIFF, JPEG ni PNG (parece ser {describe(head)}). "
            "Escanee el documento o expórtelo como PDF, TIFF, JPEG o PNG y vuelva a cargarlo.",
        )
    return found


def detect(head: bytes) -> FileKind | None:
    """Kind of a file from its first bytes, or None when it is none of the four."""
    if head.startswith(_CLASSIC_TIFF) or head.startswith(_BIGTIFF):
        return TIFF
    guess = filetype.guess(head)
    if guess is not None:
        # filetype also knows TIFF-based raw camera formats (cr2, ...): those are not scans.
        return _BY_MIME.get(guess.mime)
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return PDF
    if _looks_like_text(head):
        return None
    junk = head.find(_JPEG_SOI, 1, JPEG_JUNK_WINDOW)
    if junk > 0:
        return FileKind(JPEG.kind, JPEG.media_type, JPEG.extension, offset=junk)
    return None


def describe(head: bytes) -> str:
    """A short Spanish guess of what an unsupported file is, for error messages."""
    guess = filetype.guess(head)
    if guess is not None:
        return f"un archivo {guess.extension.upper()} ({guess.mime})"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML.search(text[:2048]):
        return (
            "HTML, una página web; suele ser una página de error o de inicio de sesión "
            "guardada en lugar del documento"
        )
    if text.startswith(b"<?xml"):
        return "XML"
    if text.startswith(b"%!PS"):
        return "PostScript"
    if _looks_like_text(head):
        return "un archivo de texto"
    return "un formato desconocido"


def _decimal(value: float, places: int = 1) -> str:
    """Spanish number format: 1.234,5."""
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


# Files that sit beside scans in a scanner's or a desktop's folder and are never scans.
JUNK_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", ".directory",
                        "icon\r", ".localized"})
_JUNK_PREFIXES = ("._", "~$", ".~lock.")  # macOS resource forks, Office and LibreOffice locks
SCAN_EXTENSIONS = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".jpe", ".png"})
NOT_SCAN_EXTENSIONS = frozenset({
    ".xml", ".json", ".txt", ".csv", ".log", ".ini", ".cfg", ".db", ".tmp", ".bak", ".xmp",
    ".htm", ".html", ".url", ".lnk", ".md5", ".sha1", ".sha256", ".md", ".nfo", ".yml", ".yaml",
})


def read_head(path: str | os.PathLike[str]) -> bytes:
    """The first bytes of a file, as much as :func:`detect` looks at."""
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES)


def is_junk_name(name: str) -> bool:
    """A desktop's or office suite's leftover (``Thumbs.db``, ``.DS_Store``, ``~$x.docx``)."""
    lowered = name.lower()
    return lowered in JUNK_NAMES or lowered.startswith(_JUNK_PREFIXES)


def is_plainly_not_a_scan(name: str, head: bytes) -> bool:
    """Whether a file met while walking a folder should be skipped instead of archived.

    Folders hold a scanner's sidecars (``.xml``, ``.json``) and the desktop's
    leftovers (``Thumbs.db``); archiving each would leave an ``error`` document
    per file. The bytes win over the name: a scan signature always makes a
    candidate, and a file named like a scan is never skipped (a damaged scan
    must still get its error). Only a known junk name, a non-scan extension,
    or a text body (XML, JSON, plain text) is skipped.
    """
    if detect(head) is not None:
        return False
    if is_junk_name(name):
        return True
    lowered = name.lower()
    extension = os.path.splitext(lowered)[1]
    if extension in SCAN_EXTENSIONS:
        return False
    if extension in NOT_SCAN_EXTENSIONS:
        return True
    return bool(head) and _looks_like_text(head)
