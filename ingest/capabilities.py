"""Optional capabilities of the ingest pipeline, looked up once per process.

A missing piece (the QR reader behind separator sheets, Tesseract's OSD data
behind automatic orientation) degrades one feature; it must not turn into a
traceback on every page. So the pipeline asks :func:`qr_reader_available`
before using the reader, and start-up (``archivo serve``/``worker``) and
``/healthz`` say in Spanish what is missing, once, from :func:`missing_capabilities`.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from archive.errors import ArchivoError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Missing:
    """One capability that is not installed: what stops working and how to fix it."""

    name: str  # short Spanish name, e.g. "lector de códigos QR"
    effect: str  # what the user loses
    remedy: str  # what the administrator does

    def sentence(self) -> str:
        return f"Falta el {self.name}: {self.effect}. {self.remedy}"


@lru_cache(maxsize=1)
def qr_reader_available() -> bool:
    """zxing-cpp (a runtime dependency) loads; a missing or broken one (a shared library
    that does not load) is said once at start-up instead of failing on every page."""
    try:
        importlib.import_module("zxingcpp")
    except Exception:  # noqa: BLE001 - ImportError, OSError from the native library, ...
        return False
    return True


@lru_cache(maxsize=1)
def _osd_available() -> bool | None:
    """Tesseract's ``osd`` data is installed; None when Tesseract itself cannot be asked."""
    from .ocr import available_languages  # Tesseract is started only when asked

    try:
        return "osd" in available_languages()
    except (ArchivoError, OSError):
        return None


def _check_qr_reader() -> Missing | None:
    if qr_reader_available():
        return None
    return Missing("lector de códigos QR (zxing-cpp)",
                   "las hojas separadoras no se reconocen y un lote escaneado queda como un "
                   "solo documento",
                   "Reinstale archivo con «make install» (pip install zxing-cpp).")


def _check_osd() -> Missing | None:
    found = _osd_available()
    if found is None:
        return Missing("programa Tesseract", "no se puede reconocer el texto de las páginas",
                       "Instálelo con «make install» (apt-get install tesseract-ocr "
                       "tesseract-ocr-spa tesseract-ocr-osd).")
    if found:
        return None
    return Missing("dato de orientación de Tesseract (osd)",
                   "las páginas escaneadas de costado o al revés no se enderezan solas",
                   "Instálelo con «make install» (apt-get install tesseract-ocr-osd).")


CHECKS = (_check_qr_reader, _check_osd)


def missing_capabilities() -> list[Missing]:
    """What this process cannot do; empty on a complete install."""
    return [found for check in CHECKS if (found := check()) is not None]


def log_missing_capabilities() -> list[Missing]:
    """Say once, at start-up, what is missing (a warning each), and return it."""
    missing = missing_capabilities()
    for item in missing:
        log.warning("%s", item.sentence())
    return missing


__all__ = ["Missing", "qr_reader_available", "missing_capabilities", "log_missing_capabilities"]
