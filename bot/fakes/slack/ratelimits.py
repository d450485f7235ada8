"""Slack's rate limits: HTTP 429 with `Retry-After`, on demand, from a per-method tier, or from
chat.postMessage's own limits (about one message a second per channel, and a workspace-wide
ceiling)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Hashable


class RateLimiter:
    """Decides which calls Slack answers with 429: the next few on demand, or those past a
    calls-per-minute tier (Slack's tiers: 1, 20, 50 and 100+ per minute), a per-channel or a
    per-workspace limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forced: dict[str, deque[float]] = defaultdict(deque)
        # (method, scope) -> (calls, window in seconds); scope: "tier", "workspace", "channel"
        self._limits: dict[tuple[str, str], tuple[int, float]] = {}
        self._recent: dict[Hashable, deque[float]] = defaultdict(deque)

    def force(self, method: str, retry_after: float, times: int) -> None:
        with self._lock:
            self._forced[method].extend([retry_after] * times)

    def set_tier(self, method: str, calls_per_minute: int | None) -> None:
        """All callers together: at most `calls_per_minute` in any 60 s."""
        self._set(method, "tier", calls_per_minute, 60.0)

    def set_per_workspace(
        self, method: str, calls_per_minute: int | None, window_seconds: float = 60.0
    ) -> None:
        """Each workspace (bot token) apart: at most `calls_per_minute` in any 60 s (or in any
        `window_seconds`)."""
        self._set(method, "workspace", calls_per_minute, window_seconds)

    def set_per_channel(self, method: str, calls_per_second: int | None) -> None:
        """Each channel of each workspace apart: at most `calls_per_second` in any second."""
        self._set(method, "channel", calls_per_second, 1.0)

    def retry_after(
        self, method: str, *, team: str | None = None, channel: str | None = None
    ) -> float | None:
        """Seconds the caller must wait, or None when this call may go through (and counts)."""
        with self._lock:
            if self._forced[method]:
                return self._forced[method].popleft()
            now = time.monotonic()
            windows = []
            for scope, key in (
                ("tier", (method,)),
                ("workspace", (method, team)),
                ("channel", (method, team, channel)),
            ):
                limit = self._limits.get((method, scope))
                if limit is None or (scope == "channel" and channel is None):
                    continue
                calls, window = limit
                recent = self._recent[(scope, *key)]
                while recent and now - recent[0] >= window:
                    recent.popleft()
                if len(recent) >= calls:
                    # Slack sends whole seconds; slack_sdk parses them as integers.
                    return max(1, math.ceil(window - (now - recent[0])))
                windows.append(recent)
            for recent in windows:  # a refused call does not count against any limit
                recent.append(now)
            return None

    def _set(self, method: str, scope: str, calls: int | None, window: float) -> None:
        with self._lock:
            if calls is None:
                self._limits.pop((method, scope), None)
            else:
                self._limits[(method, scope)] = (calls, window)
