"""Spanish words for the codes the archive records: audit actions, detail fields and values.

The audit trail and the database keep stable codes (``fisico.documento_ubicar``,
``sin_nis``, ``cedula``) because other systems and the API read them; people
read these labels instead. One table here, so the document page, the supply
file, flash messages and the CLI never show a code and never disagree on a word.
Unknown codes still read as words (``algo_nuevo`` -> «Algo nuevo»), never as codes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .enums import DocumentStatus, DocumentType, LinkSource

REVIEW_LABELS = {
    "sin_texto": "No se reconoció texto",
    "sin_nis": "No se encontró ningún NIS",
    "nis_desconocido": "NIS que no figura en el registro de suministros",
    "ocr_baja_confianza": "Reconocimiento de texto de baja confianza",
    "tipo_incierto": "Tipo de documento incierto",
    "sin_separador": "Páginas de un lote escaneadas antes de la primera hoja separadora",
    "separador_invalido": "Hoja separadora ilegible o con datos inválidos",
}

# What happened to a document, as its history names it (audit action codes).
ACTION_LABELS = {
    "documento.recibir": "Recibido",
    "documento.procesar": "Procesado (OCR)",
    "documento.rechazar": "Rechazado por el sistema",
    "documento.editar": "Datos editados",
    "documento.nota": "Nota de recepción",
    "documento.ver_original": "Original consultado",
    "documento.vincular": "NIS vinculado",
    "documento.desvincular": "NIS desvinculado",
    "documento.dividir": "Lote dividido en documentos",
    "documento.reconstruir": "Rehecho desde la corrección del lote",
    "documento.vaciar": "Vaciado: sus páginas pasaron a otras partes del lote",
    "documento.restaurar": "Restaurado desde una bolsa exportada",
    "documento.derivados_regenerados": "Imágenes y PDF regenerados desde el original",
    "revision.confirmar": "Revisión: confirmado",
    "revision.rechazar": "Revisión: rechazado",
    "fisico.documento_ubicar": "Original guardado en el archivo físico",
    "fisico.documento_quitar": "Original retirado de su lugar en el archivo físico",
    "lote.mover_paginas": "Lote: páginas movidas de parte",
    "lote.unir": "Lote: partes unidas",
    "lote.dividir_parte": "Lote: parte dividida",
}

# Names of the fields in edits and in audit details.
FIELD_LABELS = {
    "tipo": "Tipo", "titulo": "Título", "fecha": "Fecha del documento",
    "expediente": "Expediente", "ot": "Orden de trabajo", "nis": "NIS",
    "archivo": "Archivo", "bytes": "Tamaño (bytes)", "sha256": "Huella SHA-256",
    "sha256_anterior": "Huella SHA-256 anterior", "estado": "Estado", "paginas": "Páginas",
    "pagina": "Página", "motivos": "Motivos", "motivo": "Motivo", "notas": "Notas",
    "origen": "Origen", "origen_anterior": "Origen anterior", "via": "Desde", "ip": "Dirección IP",
    "antes": "Antes", "ahora": "Ahora", "lote": "Lote", "parte": "Parte", "hojas": "Hojas",
    "desde": "Desde", "hacia": "Hacia la parte", "en": "En la parte", "desde_hoja": "Desde la hoja",
    "nueva_parte": "Nueva parte", "separadores": "Hojas separadoras", "partes": "Partes",
    "reconstruidas": "Partes rehechas", "documento": "Documento",
    "separador_hoja": "Hoja separadora", "problema": "Problema", "bolsa": "Bolsa",
    "exportado": "Exportado", "version_origen": "Versión de origen",
    "numero_en_bolsa": "Número en la bolsa", "eventos_verificados": "Eventos verificados",
    "modo": "Modo", "nis_agregados": "NIS agregados",
    "identificadores_agregados": "Identificadores agregados",
    "objetos_reparados": "Archivos reparados", "faltaban": "Faltaban", "danados": "Dañados",
    "pdf": "PDF regenerado", "pdf_estado": "Estado del PDF", "texto_distinto": "Texto distinto en",
}

# Details kept in the audit trail for machines, not shown on pages.
HIDDEN_DETAILS = frozenset({"codigo", "eventos"})

IDENTIFIER_LABELS = {
    "nis": "NIS", "cedula": "Cédula", "ruc": "RUC",
    "ruc_invalid": "RUC (dígito verificador inválido)", "expediente": "Expediente",
    "ot": "Orden de trabajo",
}

CHANNEL_LABELS = {"web": "la página web", "api": "la API", "cli": "la línea de comandos"}
RESTORE_MODES = {"existente": "documento existente completado"}

_ENUM_FIELDS: dict[str, type[DocumentType] | type[DocumentStatus] | type[LinkSource]] = {
    "tipo": DocumentType, "estado": DocumentStatus, "origen": LinkSource,
    "origen_anterior": LinkSource,
}


def words(code: str) -> str:
    """A code nobody labelled, as plain words: ``lote.algo_nuevo`` -> «Algo nuevo»."""
    text = code.rsplit(".", 1)[-1].replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code) or words(code)


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key) or words(key)


def identifier_label(kind: str) -> str:
    return IDENTIFIER_LABELS.get(kind) or words(kind)


def review_label(code: str) -> str:
    return REVIEW_LABELS.get(code) or words(code)


def _enum_label(enum: Any, value: str) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return words(value)


def value_text(key: str, value: object) -> str:
    """One detail value as a person reads it, labelled by the field it belongs to."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, list):
        return ", ".join(t for t in (value_text(key, v) for v in value) if t)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k) if not k.isdigit() else 'parte ' + k}: {t}"
                         for k, v in value.items() if k not in HIDDEN_DETAILS
                         and (t := value_text(k, v)))
    text = str(value)
    if key == "motivos":
        return "; ".join(review_label(c) for c in text.split(",") if c)
    if key in _ENUM_FIELDS:
        return _enum_label(_ENUM_FIELDS[key], text)
    if key == "via":
        return CHANNEL_LABELS.get(text) or words(text)
    if key == "modo":
        return RESTORE_MODES.get(text) or words(text)
    if key == "fecha":
        return _day(text)
    return text


def _day(text: str) -> str:
    try:
        return dt.date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def detail_rows(action: str, details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(field label, text) for each shown detail; an edit's [before, after] reads «a → b»."""
    rows: list[tuple[str, str]] = []
    for key, value in (details or {}).items():
        if key in HIDDEN_DETAILS:
            continue
        if action == "documento.editar" and isinstance(value, list) and len(value) == 2:
            text = f"{value_text(key, value[0]) or '—'} → {value_text(key, value[1]) or '—'}"
        else:
            text = value_text(key, value)
        if text:
            rows.append((field_label(key), text))
    return rows


def field_list(keys: list[str] | set[str] | dict[str, Any]) -> str:
    """«Título, Expediente»: the fields an edit changed, in the form's order."""
    order = list(FIELD_LABELS)
    ranked = sorted(keys, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(field_label(k) for k in ranked)
