"""Closed vocabularies of dispatches, each value with its Spanish label.

Kept apart from the models so the pure workflow and permission rules import
no SQLAlchemy.
"""

from __future__ import annotations

from archive.enums import LabelledEnum


class DispatchState(LabelledEnum):
    BORRADOR = "borrador", "Borrador"
    PREPARADO = "preparado", "Preparado"
    ENVIADO = "enviado", "Enviado"
    RECIBIDO = "recibido", "Recibido"
    RECIBIDO_CON_OBSERVACIONES = "recibido_con_observaciones", "Recibido con observaciones"
    DEVUELTO = "devuelto", "Devuelto"
    ANULADO = "anulado", "Anulado"


class Action(LabelledEnum):
    """What a person (or, for ``devolver``, the receipt of a return trip) does to a dispatch."""

    PREPARAR = "preparar", "preparar"
    REABRIR = "reabrir", "reabrir"
    ENVIAR = "enviar", "enviar"
    RECIBIR = "recibir", "recibir"
    DEVOLVER = "devolver", "marcar como devuelto"
    ANULAR = "anular", "anular"


class ItemKind(LabelledEnum):
    DOCUMENTO = "documento", "Documento archivado"
    CARPETA = "carpeta", "Carpeta o caja"
    TEXTO = "texto", "Otro (texto libre)"


class ItemOutcome(LabelledEnum):
    """What the receiving side found for one item."""

    RECIBIDO = "recibido", "Recibido"
    FALTANTE = "faltante", "Faltante"
    DANADO = "danado", "Dañado"


# What a person reads in a dispatch's history for each recorded event code
# (``DispatchEvent.action``, also the audit action ``despacho.<code>``).
EVENT_LABELS: dict[str, str] = {
    "crear": "Creación",
    "agregar_item": "Ítem agregado",
    "quitar_item": "Ítem quitado",
    "preparar": "Preparación",
    "reabrir": "Reapertura",
    "enviar": "Envío",
    "recibir": "Recepción",
    "devolver": "Devolución recibida",
    "anular": "Anulación",
    "resolver_item": "Observación resuelta",
}


def event_label(code: str) -> str:
    """Spanish words for an event code; an unknown code still reads as words, not a code."""
    return EVENT_LABELS.get(code) or code.replace("_", " ").capitalize()
