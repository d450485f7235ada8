"""Critique engines for end-to-end tests, handed to the bot through `Services.from_settings`
(never by patching our classes): the offline engine, recording what it is asked, that a test
can slow down or break; and what an LLM stub answers for the LLM engine."""

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


def silent_llm_answer() -> dict:
    """A schema-valid LLM critique that gives no credit (the checks keep what they can verify),
    for an OpenAI stub to serve to the LLM engine."""
    nothing = {"score": 0, "evidence": [], "tip": "Say more."}
    return {
        **{step: nothing for step in ("apologize", "sympathize", "responsibility", "act")},
        "triggers": [],
        "customer_at_fault": False,
        "way_out_offered": False,
        "way_out_evidence": [],
        "summary": "Checked by the model.",
        "rewrite": "",
        "instructions_found": [],
    }
