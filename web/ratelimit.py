"""A small per-process sliding-window limiter for login attempts by client address.

The account lock (``archive.accounts``) is the real guard and lives in the
database; this only slows one address guessing many usernames. With several
server processes each keeps its own window, which is acceptable for that aim.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt for ``key``; False when the window is already full."""
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True
