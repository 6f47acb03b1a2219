"""A small per-process sliding-window counter of failed sign-ins by client address.

Only failures count: an office behind one NAT address signs in many people at the
start of a shift, and successes must not lock it out. The account lock
(``archive.accounts``) is the real guard and lives in the database; this only
slows one address guessing many usernames. With several server processes each
keeps its own window, which is acceptable for that aim.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable


class SlidingWindow:
    def __init__(self, limit: int, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and now - hits[0] > self.seconds:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        """True when ``key`` already has ``limit`` hits in the window (counts nothing)."""
        with self._lock:
            if key not in self._hits:  # never failed: leave no empty entry behind
                return False
            return len(self._live(key, self.clock())) >= self.limit

    def hit(self, key: str) -> None:
        """Count one failure for ``key``."""
        now = self.clock()
        with self._lock:
            self._live(key, now).append(now)
            if len(self._hits) > 10_000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not self._live(k, now)]:
                    del self._hits[k]
