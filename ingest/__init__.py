"""Scanned files in, OCR'd, stored and linked pages out.

``web``, ``archivo_cli`` and ``bench`` import from here, never from the submodules:
what this module exports is the package's public API, the rest may move.
"""

from .accept import Accepted, accept_stream
from .capabilities import log_missing_capabilities, missing_capabilities
from .classify import classify
from .derivatives import thumbnail, web_image
from .errors import RejectedInput
from .extract import extract_all
from .ocr import ocr_page
from .pages import count_pages, iter_pages
from .process import process_document
from .regenerate import parse_number, regenerate_document
from .samples import TEMPLATES, render_page, sample_document, sample_file
from .separators import write_separators
from .sniff import is_plainly_not_a_scan, read_head, sniff
from .status import DocumentSummary, is_final, summaries
from .tasks import enqueue_processing, register_tasks, start_sweeper
from .watch import start_watcher

__all__ = [
    "Accepted", "accept_stream", "log_missing_capabilities", "missing_capabilities",
    "classify", "thumbnail", "web_image", "RejectedInput", "extract_all", "ocr_page",
    "count_pages", "iter_pages", "process_document", "parse_number", "regenerate_document",
    "TEMPLATES", "render_page", "sample_document", "sample_file", "write_separators",
    "is_plainly_not_a_scan", "read_head", "sniff", "DocumentSummary", "is_final",
    "summaries", "enqueue_processing", "register_tasks", "start_sweeper", "start_watcher",
]
