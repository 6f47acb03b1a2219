"""Courier dispatches (encomiendas) to the regional units: the domain, without web pages.

The web layer, the CLI and the benchmarks call only what this module exports,
never the submodules (which may move). Every function takes ``services`` and the
acting person (:class:`Actor`), runs its own unit of work, checks permissions and
the state machine, and returns detached views. Refusals are :class:`archive.errors.ArchivoError` subclasses with a
Spanish message: :class:`TransitionRefused` (state), :class:`PermissionDenied`
(who), :class:`NotFound` (what).
"""

from .couriers import (DEFAULT_TRANSIT_DAYS, CourierView, TransitView, add_courier,
                       list_couriers, list_transit_days, set_courier_active, set_transit_days)
from .enums import Action, DispatchState, ItemKind, ItemOutcome
from .items import add_document, add_folder, add_text, remove_item
from .location import Location
from .manifest import manifest_pdf, receipt_url, render_manifest
from .overdue import Overdue, overdue_dispatches
from .permissions import (Actor, DispatchScope, PermissionDenied, can_create, can_manage,
                          can_receive, can_resolve, can_view)
from .physical_rules import dispatch_hold
from .queries import (Discrepancy, dispatches_for_document, dispatches_for_supply, get_dispatch,
                      list_dispatches, open_discrepancies, where_is)
from .refs import NotFound, UnknownInput, UnknownUnit, archive_number, label_code
from .report import ReportRow, csv_bytes, monthly_report, write_csv
from .service import (ItemReceipt, annul, create_dispatch, create_return, prepare, receive,
                      reopen, resolve_item, send)
from .views import DispatchView, EventView, ItemView
from .workflow import TransitionRefused, allowed_actions, days_late

__all__ = [
    "DEFAULT_TRANSIT_DAYS", "CourierView", "TransitView", "add_courier", "list_couriers",
    "list_transit_days", "set_courier_active", "set_transit_days", "Action", "DispatchState",
    "ItemKind", "ItemOutcome", "add_document", "add_folder", "add_text", "remove_item",
    "Location", "manifest_pdf", "receipt_url", "render_manifest", "Overdue",
    "overdue_dispatches", "Actor", "DispatchScope", "PermissionDenied", "can_create",
    "can_manage", "can_receive", "can_resolve", "can_view", "Discrepancy",
    "dispatches_for_document", "dispatches_for_supply", "get_dispatch", "list_dispatches",
    "open_discrepancies", "where_is", "NotFound", "UnknownInput", "UnknownUnit", "ReportRow",
    "monthly_report", "write_csv", "csv_bytes", "ItemReceipt", "annul", "create_dispatch",
    "create_return", "prepare", "receive", "reopen", "resolve_item", "send", "DispatchView", "EventView", "ItemView", "TransitionRefused",
    "allowed_actions", "days_late", "dispatch_hold", "archive_number", "label_code",
]
