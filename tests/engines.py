"""Critique engines for end-to-end tests, handed to the bot through `Services.from_settings`
(never by patching our classes): the offline engine, recording what it is asked, that a test
can slow down or break."""

from __future__ import annotations

import threading
import time

from bot.coaching.critique import Critique, CritiqueRequest
from bot.coaching.offline import OfflineCritiqueEngine


class ScriptedEngine:
    def __init__(self) -> None:
        self._offline = OfflineCritiqueEngine()
        self._lock = threading.Lock()
        self.requests: list[CritiqueRequest] = []
        self.delay = 0.0
        self.failure: Exception | None = None

    def critique(self, request: CritiqueRequest) -> Critique:
        with self._lock:
            self.requests.append(request)
        time.sleep(self.delay)
        if self.failure is not None:
            raise self.failure
        return self._offline.critique(request)
