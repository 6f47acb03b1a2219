"""The physical archive: where the paper is (location tree, folders), moves, loans, labels.

Service functions take the caller's ``Session`` (the caller owns the unit of
work), the acting person (``actor``) and, where time matters, ``now`` /
``today`` so tests control the clock. Every change is audited
(``archive.audit``) in the same transaction. Refusals are
:class:`archive.errors.ArchivoError` with a Spanish sentence;
:class:`NotFound` when a code names nothing.

Rules that depend on dispatches (a folder or box away in a dispatch cannot
be lent or moved) arrive through the ``away`` callable (:mod:`.holds`),
because the core does not import ``dispatch``.
"""

from .codes import claim_code, code_taken, looks_like_code, normalize_code
from .folders import (create_folder, describe_place, document_place, find_document, get_folder,
                      move_folder, open_loan, place_document, remove_document_place,
                      resolve_code, update_folder)
from .holds import NO_HOLDS, AwayCheck, Hold, document_key
from .labels import BIG, LAYOUTS, SHEET, LabelItem, label_items, render_labels
from .loans import (days_late, folders_within, lend, loans, open_loans_within, overdue_loans,
                    return_folder)
from .locations import (NotFound, add_location, chain, get_location, levels, move_location,
                        node_label, path_text, set_level)
from .models import DocumentPlace, Folder, Loan, Location, LocationLevel, Move
from .views import (Crumb, DocRef, FolderDetail, FolderSummary, LoanView, LocationDetail,
                    MoveView, NodeSummary, TreeNode, all_locations, folder_detail, loan_view,
                    location_detail, overdue_count, tree, unplaced_folders)

__all__ = [
    "claim_code", "code_taken", "looks_like_code", "normalize_code", "create_folder",
    "describe_place", "document_place", "find_document", "get_folder", "move_folder",
    "open_loan", "place_document", "remove_document_place", "resolve_code", "update_folder",
    "NO_HOLDS", "AwayCheck", "Hold", "document_key", "BIG", "LAYOUTS", "SHEET", "LabelItem",
    "label_items", "render_labels", "days_late", "folders_within", "lend", "loans",
    "open_loans_within", "overdue_loans", "return_folder", "NotFound",
    "add_location", "chain", "get_location", "levels", "move_location", "node_label",
    "path_text", "set_level", "DocumentPlace", "Folder", "Loan", "Location", "LocationLevel",
    "Move", "Crumb", "DocRef", "FolderDetail", "FolderSummary", "LoanView", "LocationDetail",
    "MoveView", "NodeSummary", "TreeNode", "all_locations", "folder_detail", "loan_view",
    "location_detail", "overdue_count", "tree", "unplaced_folders",
]
