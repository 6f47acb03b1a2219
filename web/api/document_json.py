"""A document as the API shows it: ``DocumentView`` with Spanish keys and absolute URLs.

Kept apart from the routes so other API modules (dispatches list the documents
they carry) show a document the same way. URLs point at the API's own
role-checked download routes, never at storage.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from archive.document_view import DocumentView, EventView, LinkView, PageView

from .common import iso as _iso


def document_url(doc_id: int) -> str:
    return url_for("api.get_document", doc_id=doc_id, _external=True)


def page_urls(doc_id: int, page: PageView | int, *, has_image: bool = True,
              has_thumb: bool = True) -> dict[str, str | None]:
    number = page if isinstance(page, int) else page.number
    if isinstance(page, PageView):
        has_image, has_thumb = page.image_key is not None, page.thumb_key is not None
    return {
        "imagen_url": url_for("api.page_image", doc_id=doc_id, number=number, _external=True)
        if has_image else None,
        "miniatura_url": url_for("api.page_thumbnail", doc_id=doc_id, number=number,
                                 _external=True) if has_thumb else None,
        "texto_url": url_for("api.page_text", doc_id=doc_id, number=number, _external=True),
    }


def _link(link: LinkView) -> dict[str, Any]:
    return {"nis": link.nis, "origen": link.source, "origen_nombre": link.source_label,
            "confianza": round(link.confidence, 4), "creado_por": link.created_by,
            "creado": _iso(link.created_at), "en_registro": link.in_registry,
            "titular": link.holder_name}


def _page(doc_id: int, page: PageView, with_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "numero": page.number,
        "origen_texto": page.text_source,
        "confianza_ocr": round(page.ocr_confidence, 2) if page.ocr_confidence is not None else None,
        "ancho": page.width, "alto": page.height,
    }
    if with_text:
        out["texto"] = page.text
    out.update(page_urls(doc_id, page))
    return out


def _event(event: EventView) -> dict[str, Any]:
    return {"fecha": _iso(event.at), "usuario": event.actor, "accion": event.action,
            "accion_nombre": event.action_label, "detalles": event.details}


def document_json(view: DocumentView, *, with_text: bool = True) -> dict[str, Any]:
    """Everything about one document; ``with_text=False`` leaves page texts out (big documents)."""
    return {
        "id": view.id,
        "numero": view.archive_number,
        "url": document_url(view.id),
        "tipo": view.doc_type,
        "tipo_nombre": view.doc_type_label,
        "tipo_confianza": view.doc_type_confidence,
        "titulo": view.title,
        "estado": view.status,
        "estado_nombre": view.status_label,
        "motivos_revision": [{"codigo": c, "descripcion": d} for c, d in view.review_reasons],
        "error": {"codigo": view.error_code, "mensaje": view.error_message}
        if view.error_code or view.error_message else None,
        "fecha": _iso(view.document_date),
        "recibido": _iso(view.received_at),
        "recibido_por": view.received_by,
        "expediente": view.expediente,
        "ot": view.ot_number,
        "original": {
            "nombre": view.original_filename, "tipo_mime": view.original_media_type,
            "bytes": view.original_size, "sha256": view.sha256,
            "url": url_for("api.document_original", doc_id=view.id, _external=True),
        },
        "pdf_url": url_for("api.document_pdf", doc_id=view.id, _external=True)
        if view.pdf_key else None,
        "cantidad_paginas": view.page_count,
        "confianza_ocr": round(view.ocr_confidence, 2) if view.ocr_confidence is not None else None,
        "nis": view.nis,
        "vinculos": [_link(link) for link in view.links],
        "identificadores": [{"tipo": k, "tipo_nombre": label, "valor": v}
                            for (k, v), (label, _) in zip(view.identifiers, view.identifier_rows)],
        "paginas": [_page(view.id, p, with_text) for p in view.pages],
        "historial": [_event(e) for e in view.history],
    }
