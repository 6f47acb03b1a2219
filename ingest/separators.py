"""Separator sheets for batch scanning: print them, and recognise them on scanned pages.

The archivist puts one separator sheet in front of each folder and scans the
whole stack as one file. Each sheet carries a big QR code with a versioned
payload::

    ARCHIVO-SEPARADOR:1;NIS=4992383;TIPO=contrato

(``TIPO`` is optional) plus the same data in large text for people. The ingest
pipeline (``ingest.split``) cuts the stack at every separator page.

Decisions:

* Only QR codes whose text starts with ``ARCHIVO-SEPARADOR:`` count: other
  codes found on ordinary pages (electronic invoices, labels) are ignored.
* A page with our prefix but an unreadable payload (unknown version, invalid
  NIS or type) *is* a separator (the cut is real, the sheet is not content),
  with ``problem`` set: the document after it goes to review.
* Detection is cheap on purpose, because it runs on every page of every
  upload: a grey copy of about ``DETECT_WIDTH`` pixels first; the full page is
  decoded only when that copy shows a QR code zxing could not read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

from PIL import Image

from archive.enums import DocumentType
from archive.errors import ArchivoError
from archive.nis import normalize_nis
from archive.pdf_info import new_canvas

from .capabilities import qr_reader_available

log = logging.getLogger(__name__)

PREFIX = "ARCHIVO-SEPARADOR:"
VERSION = 1
DETECT_WIDTH = 800  # pixels of the cheap first look (an A4 page at ~100 dpi)
INSTRUCTION = ("Coloque esta hoja delante de la carpeta del suministro y escanee todo el lote "
               "en un solo archivo. El sistema separa los documentos y descarta esta hoja.")


@dataclass(frozen=True)
class Separator:
    """What a separator sheet says. ``problem`` is set when the sheet cannot be trusted."""

    nis: str | None
    doc_type: DocumentType | None = None
    payload: str = ""
    problem: str | None = None  # Spanish reason, e.g. an invalid NIS

    @property
    def valid(self) -> bool:
        return self.problem is None and self.nis is not None


# --- payload ------------------------------------------------------------------------------


def make_payload(nis: str, doc_type: DocumentType | str | None = None) -> str:
    """``ARCHIVO-SEPARADOR:1;NIS=4992383;TIPO=contrato``; the NIS is normalized first."""
    parts = [f"{PREFIX}{VERSION}", f"NIS={normalize_nis(nis)}"]
    if doc_type:
        kind = doc_type if isinstance(doc_type, DocumentType) else DocumentType.parse(doc_type)
        parts.append(f"TIPO={kind.value}")
    return ";".join(parts)


def is_separator_text(text: str) -> bool:
    return text.strip().upper().startswith(PREFIX)


def parse_payload(text: str) -> Separator | None:
    """The separator a QR text describes; None when it is not one of ours."""
    text = text.strip()
    if not is_separator_text(text):
        return None
    version, _, rest = text[len(PREFIX):].partition(";")
    if version.strip() != str(VERSION):
        return Separator(None, None, text,
                         f"versión de separador desconocida ({version.strip()!r})")
    fields: dict[str, str] = {}
    for item in rest.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            fields[key.strip().upper()] = value.strip()
    nis: str | None = None
    try:
        nis = normalize_nis(fields.get("NIS", ""))
    except ArchivoError:
        return Separator(None, None, text,
                         f"NIS inválido en el separador ({fields.get('NIS', '')!r})")
    doc_type: DocumentType | None = None
    if fields.get("TIPO"):
        try:
            doc_type = DocumentType(fields["TIPO"].lower())
        except ValueError:
            return Separator(nis, None, text, f"tipo de documento desconocido ({fields['TIPO']!r})")
    return Separator(nis, doc_type, text)


# --- detection ----------------------------------------------------------------------------


def _decode(image: Image.Image, *, errors: bool) -> list:  # type: ignore[type-arg]
    import zxingcpp

    return list(zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode,
                                       try_downscale=True, return_errors=errors))


def _small_gray(image: Image.Image, width: int) -> Image.Image:
    gray = image if image.mode == "L" else image.convert("L")
    if gray.width <= width * 1.25:
        return gray
    factor = max(1, gray.width // width)
    small = gray.reduce(factor) if factor > 1 else gray
    if small.width > width * 1.25:
        height = max(1, round(small.height * width / small.width))
        small = small.resize((width, height), Image.Resampling.BILINEAR)
    return small


def _first_separator(codes: Iterable) -> Separator | None:  # type: ignore[type-arg]
    for code in codes:
        if getattr(code, "error", None):
            continue
        found = parse_payload(code.text or "")
        if found is not None:
            return found
    return None


def detect_separator(image: Image.Image) -> Separator | None:
    """The separator printed on this page, or None for an ordinary page.

    Looks at a small grey copy first (a few milliseconds); decodes the full
    page only if the small copy holds a QR code that could not be read. Without the
    QR reader it finds nothing, quietly: start-up and ``/healthz`` already said so.
    """
    if not qr_reader_available():
        return None
    try:
        small = _small_gray(image, DETECT_WIDTH)
        codes = _decode(small, errors=True)
        found = _first_separator(codes)
        if found is not None:
            return found
        unreadable = any(getattr(c, "error", None) for c in codes)
        if unreadable and small.size != image.size:
            return _first_separator(_decode(image if image.mode in ("L", "RGB") else
                                            image.convert("L"), errors=False))
    except Exception:  # noqa: BLE001 - a barcode library fault must never fail an upload
        log.warning("no se pudo buscar códigos QR en la página", exc_info=True)
    return None


# --- printing -----------------------------------------------------------------------------


def _group_digits(nis: str) -> str:
    return f"{int(nis):,}".replace(",", ".") if nis.isdigit() else nis


def write_separators(out: str | Path | BinaryIO,
                     sheets: Sequence[tuple[str, DocumentType | str | None]]) -> int:
    """Write one A4 page per (NIS, type) to ``out``; returns the number of pages."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    if not sheets:
        raise ArchivoError("Indique al menos un NIS para imprimir separadores.")
    prepared = []
    for nis, doc_type in sheets:
        clean = normalize_nis(nis)
        kind = None
        if doc_type:
            kind = doc_type if isinstance(doc_type, DocumentType) else DocumentType.parse(doc_type)
        prepared.append((clean, kind, make_payload(clean, kind)))

    target = str(out) if isinstance(out, Path) else out
    canvas = new_canvas(target, title="Hojas separadoras de archivo",
                        subject=f"Hojas separadoras para {len(prepared)} carpeta(s) de suministro",
                        pagesize=A4, invariant=1)  # same sheets, same bytes
    width, height = A4
    for n, (clean, kind, payload) in enumerate(prepared, 1):
        canvas.setFont("Helvetica-Bold", 30)
        canvas.drawCentredString(width / 2, height - 32 * mm, "HOJA SEPARADORA")
        canvas.setFont("Helvetica", 12)
        canvas.drawCentredString(width / 2, height - 41 * mm,
                                 "No archivar: el sistema descarta esta hoja.")
        size = 110 * mm
        widget = QrCodeWidget(payload, barLevel="Q", barBorder=4)
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        qr_bottom = height - 50 * mm - size
        renderPDF.draw(drawing, canvas, (width - size) / 2, qr_bottom)
        canvas.setFont("Helvetica-Bold", 54)
        canvas.drawCentredString(width / 2, qr_bottom - 22 * mm, f"NIS {clean}")
        canvas.setFont("Helvetica", 16)
        canvas.drawCentredString(width / 2, qr_bottom - 31 * mm, f"({_group_digits(clean)})")
        canvas.setFont("Helvetica-Bold", 26)
        label = kind.label if kind else "Tipo: según el contenido"
        canvas.drawCentredString(width / 2, qr_bottom - 46 * mm, label)
        text = canvas.beginText(25 * mm, 40 * mm)
        text.setFont("Helvetica", 12)
        for line in _wrap(INSTRUCTION, 85):
            text.textLine(line)
        canvas.drawText(text)
        canvas.setFont("Helvetica", 9)
        canvas.drawString(25 * mm, 15 * mm, f"Separador {n} de {len(prepared)} · {payload}")
        canvas.showPage()
    canvas.save()
    return len(prepared)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


__all__ = ["Separator", "PREFIX", "VERSION", "make_payload", "parse_payload", "detect_separator",
           "write_separators", "is_separator_text"]
