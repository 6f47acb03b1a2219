"""The manifest: a PDF "Nota de remisión interna" that travels with the package.

Drawn with reportlab (already a dependency for the searchable PDFs). The QR
code holds the receipt page's URL, so the regional unit scans the paper and
lands on the page where it confirms each item. Standard PDF fonts are enough
for Spanish (WinAnsi has á, ñ, º); the text stays extractable for the tests.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from archive.pdf_info import document_info
from archive.services import Services

from .clock import fmt_date
from .enums import DispatchState
from .permissions import Actor
from .queries import get_dispatch
from .refs import DispatchRef
from .views import DispatchView

TITLE = "Nota de remisión interna"
SECTION = "Atención al Cliente · Control y Seguimiento"
QR_SIZE = 32 * mm


def receipt_url(base_url: str, dispatch_id: int) -> str:
    """The web page where the receiving side confirms the items."""
    return f"{base_url.rstrip('/')}/despachos/{dispatch_id}/recepcion"


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0,
                                                    QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, spaceAfter=2),
        "small": ParagraphStyle("s", parent=base["Normal"], fontSize=8, leading=10),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8.5, leading=10.5),
        "normal": ParagraphStyle("n", parent=base["Normal"], fontSize=9.5, leading=12),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(d: DispatchView, url: str, st: dict[str, ParagraphStyle]) -> Table:
    kind = "Devolución" if d.is_return else "Envío"
    lines = [
        Paragraph(SECTION, st["small"]),
        Paragraph(TITLE, st["title"]),
        Paragraph(f"<b>N.º {d.number}</b> · {kind} · Estado: {d.state_label}", st["normal"]),
    ]
    if d.return_of_number:
        lines.append(Paragraph(f"Devolución del despacho {d.return_of_number}", st["normal"]))
    if d.state is DispatchState.BORRADOR:
        lines.append(Paragraph("<b>BORRADOR: no válido para el envío.</b>", st["normal"]))
    lines.append(Paragraph(f"Recepción: {_esc(url)}", st["small"]))
    table = Table([[lines, _qr(url)]], colWidths=[140 * mm, QR_SIZE + 4 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _facts(d: DispatchView, st: dict[str, ParagraphStyle]) -> Table:
    def p(text: str) -> Paragraph:
        return Paragraph(_esc(text) or "-", st["cell"])

    rows = [
        [p("Origen"), p(d.origin), p("Fecha de creación"), p(fmt_date(d.created_at))],
        [p("Destino"), p(d.destination), p("Fecha de preparación"), p(fmt_date(d.prepared_at))],
        [p("Servicio de encomiendas"), p(d.courier), p("Fecha de envío"), p(fmt_date(d.sent_at))],
        [p("Número de guía"), p(d.guide_number), p("Entrega prevista"),
         p(fmt_date(d.expected_delivery))],
    ]
    if d.notes:
        rows.append([p("Notas"), p(d.notes), "", ""])
    table = Table(rows, colWidths=[38 * mm, 58 * mm, 36 * mm, 48 * mm])
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
             ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
             ("BACKGROUND", (2, 0), (2, 3), colors.whitesmoke),
             ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if d.notes:
        style.append(("SPAN", (1, len(rows) - 1), (3, len(rows) - 1)))
    table.setStyle(TableStyle(style))
    return table


def _items(d: DispatchView, st: dict[str, ParagraphStyle]) -> Table:
    def p(text: str) -> Paragraph:
        return Paragraph(_esc(text), st["cell"])

    head = ["N.º", "Nro. de archivo / código", "Tipo", "NIS", "Fojas", "Original / copia"]
    rows: list[list[object]] = [[Paragraph(f"<b>{_esc(h)}</b>", st["cell"]) for h in head]]
    for n, it in enumerate(d.items, 1):
        extra = f" ({it.description})" if it.label_code and it.description else ""
        rows.append([p(str(n)), p(it.reference + extra), p(it.doc_type), p(", ".join(it.nis)),
                     p("" if it.sheets is None else str(it.sheets)), p(it.copy_label)])
    table = Table(rows, colWidths=[10 * mm, 52 * mm, 44 * mm, 30 * mm, 14 * mm, 30 * mm],
                  repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _totals(d: DispatchView, st: dict[str, ParagraphStyle]) -> Paragraph:
    originals = sum(1 for i in d.items if i.is_original)
    counts = [_count(len(d.items), "ítem", "ítems"), _count(originals, "original", "originales"),
              _count(len(d.items) - originals, "copia", "copias"),
              _count(d.total_sheets, "foja", "fojas")]
    return Paragraph("<b>Totales:</b> " + " · ".join(counts), st["normal"])


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _signatures(st: dict[str, ParagraphStyle]) -> Table:
    def box(title: str) -> list[Paragraph]:
        return [Paragraph(f"<b>{title}</b>", st["normal"]), Spacer(1, 16 * mm),
                Paragraph("Firma: ______________________", st["small"]),
                Paragraph("Aclaración: _________________", st["small"]),
                Paragraph("Fecha y hora: _______________", st["small"])]

    table = Table([[box("Entrega"), box("Transporte"), box("Recepción")]],
                  colWidths=[60 * mm] * 3)
    table.setStyle(TableStyle([("BOX", (0, 0), (0, 0), 0.6, colors.black),
                               ("BOX", (1, 0), (1, 0), 0.6, colors.black),
                               ("BOX", (2, 0), (2, 0), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def pdf_metadata(d: DispatchView) -> dict[str, str]:
    """Document properties a PDF viewer shows (instead of «untitled» by «anonymous»),
    and the language screen readers and text extraction use."""
    kind = "Devolución" if d.is_return else "Envío"
    return document_info(f"{TITLE} {d.number}",
                         f"{kind} {d.number}: {d.origin} a {d.destination} ({SECTION})")


def render_manifest(d: DispatchView, *, base_url: str) -> bytes:
    """The PDF bytes of one dispatch's manifest (needs the view with its items)."""
    st = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, **pdf_metadata(d))
    doc.build([_header(d, receipt_url(base_url, d.id), st), Spacer(1, 4 * mm), _facts(d, st),
               Spacer(1, 5 * mm), _items(d, st), Spacer(1, 3 * mm), _totals(d, st),
               Spacer(1, 8 * mm), _signatures(st)])
    return out.getvalue()


def manifest_pdf(services: Services, actor: Actor, ref: DispatchRef) -> bytes:
    """The manifest of a dispatch the person may see, with ``settings.base_url`` in the QR."""
    return render_manifest(get_dispatch(services, actor, ref),
                           base_url=services.settings.base_url)
