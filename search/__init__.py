"""Full-text and identifier search over the archive.

``web``, ``archivo_cli`` and ``bench`` import from here, never from the submodules:
what this module exports is the package's public API, the rest may move.
"""

from .analysis import spanish_stop_words
from .check import IndexReport, check_consistency, repair
from .entries import INDEXABLE
from .highlight import HitTerms, hit_boxes, hit_spans
from .identifiers import archive_number
from .index import (PEOPLE_MESSAGE, STATE_MESSAGES, IndexState, IndexUnavailable,
                    cached_searcher, check_index, create_or_open, reset_index)
from .indexer import REBUILD_BATCH, index_pending, prepare_index, rebuild
from .lock import exclusive_writer, release_stale_lock
from .parallel import worker_count
from .parse import QueryError
from .query import (MAX_PER_PAGE, SORTS, hit_terms, search, warm_up,
                    warm_up_in_background)
from .results import MODE_EXACT, DocumentHit, FacetCount, SearchResults, WordBox
from .tasks import (BATCH, register_index_task, request_if_due, request_indexing,
                    start_index_sweeper)

__all__ = [
    "IndexReport", "check_consistency", "repair", "INDEXABLE", "HitTerms", "hit_boxes",
    "hit_spans", "archive_number", "PEOPLE_MESSAGE", "STATE_MESSAGES", "IndexState",
    "IndexUnavailable", "cached_searcher", "check_index", "create_or_open", "reset_index",
    "REBUILD_BATCH", "index_pending", "prepare_index", "rebuild", "exclusive_writer",
    "release_stale_lock", "worker_count", "QueryError", "MAX_PER_PAGE", "SORTS", "hit_terms",
    "search", "warm_up", "warm_up_in_background", "MODE_EXACT", "DocumentHit", "FacetCount",
    "SearchResults", "WordBox", "BATCH", "register_index_task", "request_if_due",
    "request_indexing", "start_index_sweeper", "spanish_stop_words",
]
