"""Which column of the export feeds which supply field.

Column names are compared folded (no accents, lower case, punctuation as
``_``), so «Dirección», «DIRECCION» and «direccion» are the same column.
A mapping file (TOML) replaces the accepted names of the fields it lists;
the other fields keep the defaults::

    [columnas]
    nis = ["NRO_SUMINISTRO"]
    titular = ["NOMBRE_CLIENTE", "RAZON_SOCIAL"]

    [estados]
    cancelado = ["BAJA", "RETIRADO", "DADO DE BAJA"]
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from archive.enums import SupplyStatus
from archive.errors import ArchivoError

# Spanish field key (as written in mapping files) -> Supply attribute.
FIELDS: dict[str, str] = {
    "nis": "nis",
    "titular": "holder_name",
    "documento": "holder_document",
    "direccion": "address",
    "ciudad": "city",
    "regional": "regional_unit_id",
    "tarifa": "tariff",
    "estado": "status",
}
REQUIRED = ("nis", "titular")

DEFAULT_COLUMNS: dict[str, list[str]] = {
    "nis": ["NIS", "NRO_NIS", "NUMERO_NIS", "NRO_SUMINISTRO", "SUMINISTRO"],
    "titular": ["TITULAR", "NOMBRE", "NOMBRE_TITULAR", "RAZON_SOCIAL", "CLIENTE"],
    "documento": ["CEDULA", "CI", "RUC", "CEDULA_RUC", "DOCUMENTO", "NRO_DOCUMENTO"],
    "direccion": ["DIRECCION", "DOMICILIO"],
    "ciudad": ["CIUDAD", "LOCALIDAD", "DISTRITO"],
    "regional": ["REGIONAL", "UNIDAD_REGIONAL", "COD_REGIONAL"],
    "tarifa": ["TARIFA", "CATEGORIA_TARIFARIA", "CATEGORIA"],
    "estado": ["ESTADO", "SITUACION", "ESTADO_SUMINISTRO"],
}

DEFAULT_STATUSES: dict[str, list[str]] = {
    "activo": ["ACTIVO", "A", "VIGENTE", "CONECTADO", "HABILITADO", "ALTA"],
    "cancelado": ["CANCELADO", "C", "BAJA", "B", "DADO DE BAJA", "RETIRADO", "INACTIVO"],
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """«Dirección » -> ``direccion``; «NRO. NIS» -> ``nro_nis``."""
    norm = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in norm if not unicodedata.combining(c))
    return _NON_ALNUM.sub("_", plain).strip("_")


def _copy(names: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in names.items()}


@dataclass
class Mapping:
    columns: dict[str, list[str]] = field(default_factory=lambda: _copy(DEFAULT_COLUMNS))
    statuses: dict[str, list[str]] = field(default_factory=lambda: _copy(DEFAULT_STATUSES))

    def fingerprint(self) -> str:
        """Identifies the mapping, so a resumed import never mixes two mappings."""
        blob = json.dumps([self.columns, self.statuses], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def status_lookup(self) -> dict[str, SupplyStatus]:
        return {fold(v): SupplyStatus(k) for k, values in self.statuses.items() for v in values}

    def resolve(self, header: list[str]) -> dict[str, int]:
        """Field key -> column index; a Spanish error naming every missing required column."""
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            positions.setdefault(fold(name), i)
        found: dict[str, int] = {}
        for key, names in self.columns.items():
            for name in names:  # the first accepted name present wins
                if fold(name) in positions:
                    found[key] = positions[fold(name)]
                    break
        missing = [k for k in REQUIRED if k not in found]
        if missing:
            wanted = "; ".join(f"{k.upper()} (se acepta: {', '.join(self.columns[k])})"
                               for k in missing)
            present = ", ".join(h.strip() for h in header) or "ninguna"
            raise ArchivoError(f"Falta una columna obligatoria: {wanted}. Columnas del archivo: "
                               f"{present}. Indique los nombres de sus columnas en un archivo de mapeo.")
        return found


def load_mapping(path: Path | None) -> Mapping:
    """Defaults, overridden field by field by the TOML file when one is given."""
    mapping = Mapping()
    if path is None:
        return mapping
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ArchivoError(f"El archivo de mapeo {path} no es TOML válido: {exc}.")
    unknown = set(data) - {"columnas", "estados"}
    if unknown:
        raise ArchivoError("El archivo de mapeo tiene secciones desconocidas: "
                           f"{', '.join(sorted(unknown))}. Se admiten [columnas] y [estados].")
    for section, target, valid in (("columnas", mapping.columns, FIELDS),
                                   ("estados", mapping.statuses, DEFAULT_STATUSES)):
        for key, names in data.get(section, {}).items():
            k = fold(key)
            if k not in valid:
                raise ArchivoError(f"«{key}» no es un campo válido en [{section}]. "
                                   f"Valores posibles: {', '.join(valid)}.")
            if isinstance(names, str):
                names = [names]
            if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
                raise ArchivoError(f"En [{section}], «{key}» debe ser una lista de nombres "
                                   "entre comillas.")
            target[k] = names
    return mapping
