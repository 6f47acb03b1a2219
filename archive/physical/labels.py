"""Printable label sheets (PDF) for boxes, folders and documents.

Two layouts, both A4:

* ``hoja24``: 3 x 8 labels of 70 x 37 mm, the common self-adhesive sheet
  (Avery 3474 / Apli 1274 family); ``start`` skips labels already used on a
  partly used sheet;
* ``grande``: one label per landscape page, for the front of a box.

Each label carries a Code 128 barcode of its code (what a keyboard-wedge
reader types into the search box), the code in large text and a few lines
of context (NIS, description, archive numbers). The big layout adds a QR
code of the same text for phone cameras. A code too long for a Code 128
that fits the small label gets a QR code instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Iterable

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import ArchivoError
from archive.pdf_info import new_canvas

from .folders import find_document, resolve_code
from .locations import NotFound, get_location, node_label
from .models import DocumentPlace, Folder, Location

SHEET = "hoja24"
BIG = "grande"
LAYOUTS = {SHEET: "Hoja A4 de 24 etiquetas (3 × 8, 70 × 37 mm)",
           BIG: "Una etiqueta grande por página (frente de caja)"}
MAX_LABELS = 480  # 20 sheets: a print job, not a way to render the whole archive at once

COLS, ROWS = 3, 8
LABEL_W, LABEL_H = 70 * mm, 37 * mm
PAD = 3 * mm
MIN_BAR, MAX_BAR = 0.19 * mm, 0.33 * mm  # Code 128 module width range that scanners read
BIG_BAR = 0.8 * mm  # box fronts are scanned from further away


@dataclass(frozen=True)
class LabelItem:
    code: str  # encoded in the barcode
    kind: str  # Spanish word printed small: "Carpeta", "Caja", "Documento"
    lines: list[str] = field(default_factory=list)


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _code128(code: str, width: float, height: float,  # type: ignore[no-untyped-def]
             largest: float = MAX_BAR):
    """A Code 128 drawing no wider than ``width``, or None when it cannot be read that small."""
    bar = largest
    while bar >= MIN_BAR:
        d = createBarcodeDrawing("Code128", value=code, barWidth=bar, barHeight=height,
                                 humanReadable=False)
        if d.width <= width:
            return d
        bar -= 0.02 * mm
    return None


def _qr(code: str, size: float):  # type: ignore[no-untyped-def]
    return createBarcodeDrawing("QR", value=code, width=size, height=size, barBorder=2)


def _small(c: Canvas, item: LabelItem, x: float, y: float) -> None:
    inner = LABEL_W - 2 * PAD
    top = y + LABEL_H - PAD
    c.setFont("Helvetica", 6.5)
    c.drawString(x + PAD, top - 6.5, item.kind.upper())
    c.setFont("Helvetica-Bold", 11)
    c.drawRightString(x + LABEL_W - PAD, top - 9, _fit(item.code, "Helvetica-Bold", 11,
                                                       inner - 12 * mm))
    bars = _code128(item.code, inner, 11 * mm)
    text_x, text_w = x + PAD, inner
    if bars is not None:
        renderPDF.draw(bars, c, x + (LABEL_W - bars.width) / 2, top - 12 * mm - 11 * mm)
        line_y = top - 26 * mm
    else:
        qr = _qr(item.code, 20 * mm)
        renderPDF.draw(qr, c, x + PAD, top - 12 * mm - 20 * mm)
        text_x, text_w = x + PAD + 21 * mm, inner - 21 * mm
        line_y = top - 15 * mm
    c.setFont("Helvetica", 7)
    for line in item.lines[:3 if bars is not None else 5]:
        c.drawString(text_x, line_y, _fit(line, "Helvetica", 7, text_w))
        line_y -= 3.1 * mm


def _big(c: Canvas, item: LabelItem) -> None:
    w, h = landscape(A4)
    margin = 15 * mm
    c.setFont("Helvetica", 16)
    c.drawString(margin, h - margin - 16, item.kind.upper())
    c.setFont("Helvetica-Bold", 54)
    c.drawString(margin, h - margin - 16 - 60, _fit(item.code, "Helvetica-Bold", 54,
                                                    w - 2 * margin))
    bars = _code128(item.code, w - 2 * margin - 70 * mm, 30 * mm, BIG_BAR)
    if bars is not None:
        renderPDF.draw(bars, c, margin, h - margin - 16 - 60 - 20 * mm - 30 * mm)
    qr = _qr(item.code, 60 * mm)
    renderPDF.draw(qr, c, w - margin - 60 * mm, margin)
    c.setFont("Helvetica", 18)
    y = h - margin - 16 - 60 - 20 * mm - 30 * mm - 16 * mm
    for line in item.lines[:6]:
        if y < margin:
            break
        c.drawString(margin, y, _fit(line, "Helvetica", 18, w - 2 * margin - 65 * mm))
        y -= 9 * mm


def _canvas(buf: io.BytesIO, pagesize: tuple[float, float], items: list[LabelItem]) -> Canvas:
    """A canvas whose document info names the codes it carries (viewers, mail search)."""
    codes = ", ".join(item.code for item in items[:10]) + (" …" if len(items) > 10 else "")
    return new_canvas(buf, title="Etiquetas de archivo", pagesize=pagesize,
                      subject=f"Etiquetas con código de barras de cajas, carpetas y documentos: "
                              f"{codes}")


def render_labels(items: Iterable[LabelItem], layout: str = SHEET, *, start: int = 0) -> bytes:
    """The PDF bytes; ``start`` (0-23) skips used positions of the first sheet."""
    items = list(items)
    if not items:
        raise ArchivoError("No hay etiquetas para imprimir: indique al menos un código.")
    if len(items) > MAX_LABELS:
        raise ArchivoError(f"Se pueden imprimir hasta {MAX_LABELS} etiquetas por vez.")
    if layout not in LAYOUTS:
        raise ArchivoError(f"Formato de etiquetas desconocido «{layout}»: use "
                           f"{' o '.join(LAYOUTS)}.")
    buf = io.BytesIO()
    if layout == BIG:
        c = _canvas(buf, landscape(A4), items)
        for item in items:
            _big(c, item)
            c.showPage()
        c.save()
        return buf.getvalue()
    if not 0 <= start < COLS * ROWS:
        raise ArchivoError(f"La posición inicial debe estar entre 1 y {COLS * ROWS}.")
    page_w, page_h = A4
    left = (page_w - COLS * LABEL_W) / 2
    bottom = (page_h - ROWS * LABEL_H) / 2
    c = _canvas(buf, A4, items)
    slot = start
    for item in items:
        if slot == COLS * ROWS:
            c.showPage()
            slot = 0
        row, col = divmod(slot, COLS)
        _small(c, item, left + col * LABEL_W, bottom + (ROWS - 1 - row) * LABEL_H)
        slot += 1
    c.showPage()
    c.save()
    return buf.getvalue()


def _folder_item(session: Session, folder: Folder) -> LabelItem:
    docs = session.scalars(select(DocumentPlace).where(DocumentPlace.folder_id == folder.id)).all()
    numbers = sorted(p.document.archive_number for p in docs)
    lines = [f"NIS {folder.nis}" if folder.nis else "", folder.description,
             ", ".join(numbers)]
    return LabelItem(folder.code, "Carpeta", [ln for ln in lines if ln])


def _location_item(session: Session, node: Location) -> LabelItem:
    folders = session.scalars(select(Folder).where(Folder.location_id == node.id)
                              .order_by(Folder.code)).all()
    nis = sorted({f.nis for f in folders if f.nis})
    lines = [node_label(node), node.name if node.name != node.code else ""]
    if nis:
        lines.append("NIS " + (nis[0] if len(nis) == 1 else f"{nis[0]} a {nis[-1]}"))
    if folders:
        lines.append(f"{len(folders)} carpeta(s)")
    return LabelItem(node.code, node.level.name, [ln for ln in lines if ln])


def label_items(session: Session, codes: Iterable[str]) -> list[LabelItem]:
    """One label per code: a folder, a box (any location) or a document's archive number."""
    out: list[LabelItem] = []
    for raw in codes:
        raw = (raw or "").strip()
        if not raw:
            continue
        found = resolve_code(session, raw)
        if found is not None:
            kind, code = found
            if kind == "carpeta":
                folder = session.scalar(select(Folder).where(Folder.code == code))
                assert folder is not None
                out.append(_folder_item(session, folder))
            else:
                out.append(_location_item(session, get_location(session, code)))
            continue
        try:
            doc = find_document(session, raw)
        except ArchivoError:
            raise NotFound(f"«{raw}» no es el código de una carpeta, una caja ni un documento "
                           "del archivo.") from None
        lines = [doc.doc_type.label, "NIS " + ", ".join(doc.nis_list) if doc.nis_list else "",
                 doc.title]
        out.append(LabelItem(doc.archive_number, "Documento", [ln for ln in lines if ln]))
    return out
