"""Time for dispatches: instants are stored in UTC, days are counted in Paraguay.

Every service function takes an optional ``now``/``today`` so tests (and a
clerk recording yesterday's handover) control the clock. The zone itself is
the archive's (``archive.localtime``).
"""

from __future__ import annotations

from archive.localtime import (LOCAL_ZONE, aware, fmt_date, local_date, local_midnight,
                               local_today, utcnow)

__all__ = ["LOCAL_ZONE", "aware", "fmt_date", "local_date", "local_midnight", "local_today",
           "utcnow"]
