"""Closed vocabularies of the archive, each value with its Spanish label."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Spanish label for people."""

    label: str

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def parse(cls, text: str) -> "LabelledEnum":
        """Accept the code or the label, case- and accent-insensitively."""
        key = _fold(text)
        for m in cls:
            if key in {_fold(m.value), _fold(m.label)}:
                return m
        valid = ", ".join(m.value for m in cls)
        raise ValueError(f"«{text}» no es un valor válido. Valores posibles: {valid}.")


def _fold(text: str) -> str:
    import unicodedata

    norm = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in norm if not unicodedata.combining(c)).replace(" ", "_")


class DocumentType(LabelledEnum):
    CONTRATO = "contrato", "Contrato de suministro"
    CROQUIS = "croquis", "Croquis de ubicación"
    EXPEDIENTE = "expediente", "Expediente de Mesa de Entrada"
    NOTA_ESCRIBANIA = "nota_escribania", "Nota de escribanía"
    CERTIFICADO_ESTADO_CUENTA = "certificado_estado_cuenta", "Certificado de estado de cuenta"
    ORDEN_TRABAJO = "orden_trabajo", "Orden de trabajo"
    RECLAMO_ELECTRODOMESTICO = "reclamo_electrodomestico", "Reclamo por electrodoméstico dañado"
    DENUNCIA_ROBO_MEDIDOR = "denuncia_robo_medidor", "Denuncia de robo de medidor"
    DEVOLUCION_GARANTIA = "devolucion_garantia", "Devolución de garantía"
    ACUERDO_PAGO = "acuerdo_pago", "Acuerdo de pago"
    BONIFICACION_PERSONAL = "bonificacion_personal", "Bonificación al personal"
    ALTA_BAJA = "alta_baja", "Alta o baja de suministro"
    OTRO = "otro", "Otro"


class DocumentStatus(LabelledEnum):
    RECIBIDO = "recibido", "Recibido"
    PROCESANDO = "procesando", "Procesando"
    LISTO = "listo", "Listo"
    REVISAR = "revisar", "Para revisar"
    ERROR = "error", "Error"


class LinkSource(LabelledEnum):
    MANUAL = "manual", "Manual"
    OCR = "ocr", "Reconocido por OCR"
    CODIGO = "codigo", "Código de separación"


class SupplyStatus(LabelledEnum):
    ACTIVO = "activo", "Activo"
    CANCELADO = "cancelado", "Cancelado"


class Role(LabelledEnum):
    ADMIN = "admin", "Administrador"
    ARCHIVISTA = "archivista", "Archivista"
    CONSULTA = "consulta", "Consulta"
    DESPACHO = "despacho", "Despacho"
    REGIONAL = "regional", "Unidad regional"
