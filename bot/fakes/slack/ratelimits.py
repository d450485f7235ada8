"""Slack's rate limits: HTTP 429 with `Retry-After`, on demand or from a per-method tier."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    """Decides which calls Slack answers with 429: the next few on demand, or those past a
    calls-per-minute tier (Slack's tiers: 1, 20, 50 and 100+ per minute)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forced: dict[str, deque[int]] = defaultdict(deque)
        self._tiers: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = defaultdict(deque)

    def force(self, method: str, retry_after: int, times: int) -> None:
        with self._lock:
            self._forced[method].extend([retry_after] * times)

    def set_tier(self, method: str, calls_per_minute: int | None) -> None:
        with self._lock:
            if calls_per_minute is None:
                self._tiers.pop(method, None)
            else:
                self._tiers[method] = calls_per_minute

    def retry_after(self, method: str) -> int | None:
        """Seconds the caller must wait, or None when this call may go through."""
        with self._lock:
            if self._forced[method]:
                return self._forced[method].popleft()
            limit = self._tiers.get(method)
            if limit is None:
                return None
            now = time.monotonic()
            recent = self._recent[method]
            while recent and now - recent[0] >= 60:
                recent.popleft()
            if len(recent) >= limit:
                return math.ceil(60 - (now - recent[0]))
            recent.append(now)
            return None
