"""The manifest PDF: its text (read with pypdfium2) and its QR code (decoded with zxing-cpp)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp

from archive.enums import DocumentType
from dispatch import (add_document, add_folder, add_text, create_dispatch, manifest_pdf, prepare,
                      receipt_url, send)
from tests.dispatch_helpers import COURIER, DESPACHO, add_doc, at, dispatch_services
from tests.physical_helpers import register_boxes


def _text_and_qr(pdf: bytes) -> tuple[str, list[str]]:
    doc = pdfium.PdfDocument(pdf)
    try:
        assert len(doc) == 1
        page = doc[0]
        text = page.get_textpage().get_text_range()
        image = page.render(scale=3).to_pil()
    finally:
        doc.close()
    return " ".join(text.split()), [r.text for r in zxingcpp.read_barcodes(image)]


def test_manifest_text_and_qr(tmp_path: Path) -> None:
    svc = dispatch_services(tmp_path)
    try:
        a = add_doc(svc, 7, ("4992383", "1234567"), pages=3, doc_type=DocumentType.CROQUIS)
        b = add_doc(svc, 8, ("7654321",), pages=5, doc_type=DocumentType.CONTRATO)
        register_boxes(svc, "CAJA-0042")
        d = create_dispatch(svc, DESPACHO, "SUR", notes="Urgente: audiencia del 10/03", now=at())
        add_document(svc, DESPACHO, d.id, archive_number=a, now=at())
        add_document(svc, DESPACHO, d.id, archive_number=b, original=False, now=at())
        add_folder(svc, DESPACHO, d.id, "CAJA-0042", description="Contratos 2015", sheets=40,
                   now=at())
        add_text(svc, DESPACHO, d.id, "antecedentes del reclamo", sheets=12, now=at())

        draft, _ = _text_and_qr(manifest_pdf(svc, DESPACHO, d.id))
        assert "BORRADOR: no válido para el envío." in draft

        prepare(svc, DESPACHO, d.id, now=at(hours=1))
        send(svc, DESPACHO, d.id, courier=COURIER, guide_number="CP-778812", now=at(hours=2))
        text, codes = _text_and_qr(manifest_pdf(svc, DESPACHO, d.number))
        for expected in [
            "Nota de remisión interna", "N.º ENV-2026-000001", "Estado: Enviado",
            "Origen Archivo de Atención al Cliente", "Destino Regional Sur",
            "Servicio de encomiendas Correo Paraguayo", "Número de guía CP-778812",
            "Fecha de creación 02/03/2026", "Fecha de envío 02/03/2026",
            "Entrega prevista 05/03/2026", "Urgente: audiencia del 10/03",
            "Nro. de archivo / código", "NIS", "Fojas", "Original / copia",
            f"1 {a} Croquis de ubicación 1234567, 4992383 3 Original",
            f"2 {b} Contrato de suministro 7654321 5 Copia",
            "3 CAJA-0042 (Contratos 2015) Carpeta o caja 40 Original",
            "4 antecedentes del reclamo Otro 12 Original",
            "Totales: 4 ítems · 3 originales · 1 copia · 60 fojas",
            "Entrega", "Transporte", "Recepción", "Firma:",
        ]:
            assert expected in text, expected
        assert "BORRADOR" not in text
        url = receipt_url("https://archivo.example.py", d.id)
        assert url == f"https://archivo.example.py/despachos/{d.id}/recepcion"
        assert codes == [url]
    finally:
        svc.dispose()
