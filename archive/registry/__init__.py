"""Supply registry: import from the commercial system, regional units, renumber and merge."""

from .importer import ImportReport, Rejection, import_supplies
from .mapping import Mapping, load_mapping
from .models import SupplyAlias, SupplyImport
from .regional_units import add_regional_unit, list_regional_units, update_regional_unit
from .renumber import MoveReport, merge_supplies, renumber_supply, resolve_alias

__all__ = [
    "ImportReport", "Rejection", "import_supplies", "Mapping", "load_mapping", "SupplyAlias",
    "SupplyImport", "add_regional_unit", "list_regional_units", "update_regional_unit",
    "MoveReport", "merge_supplies", "renumber_supply", "resolve_alias",
]
