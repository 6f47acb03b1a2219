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
