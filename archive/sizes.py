"""File sizes for people: exact bytes under 1 KB, then KB/MB/GB with a decimal comma.

One rule for every page (``web/static/tamano.js`` is its twin for files not
yet uploaded): a 0-byte file says «0 bytes», never a rounded-up «1 KB».
"""

from __future__ import annotations

UNITS = ("KB", "MB", "GB", "TB")
STEP = 1024


def human_size(size: int) -> str:
    """``0`` -> «0 bytes», ``1`` -> «1 byte», ``1229`` -> «1,2 KB», ``5_242_880`` -> «5 MB»."""
    size = max(0, int(size))
    if size < STEP:
        return "1 byte" if size == 1 else f"{size} bytes"
    value, unit = float(size), UNITS[0]
    for unit in UNITS:
        value /= STEP
        if round(value, 1) < STEP or unit == UNITS[-1]:
            break
    text = f"{value:.1f}".replace(".", ",")
    return f"{text.removesuffix(',0')} {unit}"
