"""What listeners and jobs need, built once per process and passed in explicitly.

Tests give the bot slow, broken or recording engines through `from_settings`' keyword arguments,
never by patching our classes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.coaching.allowance import LlmAllowance
from bot.coaching.calibration import calibrated, workspace_calibration
from bot.coaching.critique import Critique, CritiqueEngine, CritiqueRequest
from bot.coaching.engines import build_critique_engine, for_user
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.persona import Persona
from bot.coaching.practice.service import PracticeSessions
from bot.jobs.job import Job
from bot.jobs.queue import JobQueue
from bot.settings import Settings
from bot.slack.clients import ClientForTeam, clients_by_team
from bot.store.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    critique_engine: CritiqueEngine
    practice: PracticeSessions
    jobs: JobQueue
    # Web API clients for jobs: they wait out Slack's 429s (listeners use bolt's own client).
    slack: ClientForTeam

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        critique_engine: CritiqueEngine | None = None,
        persona: Persona | None = None,
    ) -> Services:
        # Every thread that may hold a connection at once: the HTTP server's and the job slots.
        threads = settings.http_threads + settings.llm_concurrency + settings.worker_concurrency
        db = Database(settings.database_url, pool_size=threads)
        # One engine per process (one OpenAI client) for critiques and the practice critic; the
        # allowance keeps each person and workspace to their LLM limits.
        allowance = LlmAllowance.from_settings(db, settings)
        critique_engine = critique_engine or build_critique_engine(settings, allowance=allowance)
        practice = PracticeSessions.from_settings(
            db,
            settings,
            critic=critique_engine,
            persona=persona or build_persona(settings, allowance=allowance),
        )
        return cls(
            settings=settings,
            db=db,
            critique_engine=critique_engine,
            practice=practice,
            jobs=JobQueue(settings),
            slack=clients_by_team(settings, db, retry_rate_limits=True),
        )

    def critique_engine_for(self, team_id: str, user_id: str, *, asked_at: float) -> CritiqueEngine:
        """The engine for a critique asked by `user_id` of `team_id` at `asked_at` (epoch
        seconds): scoring with the workspace's calibration, within the person's LLM allowance,
        and at once offline, labelled busy, when the LLM engine could not start on it within
        BUSY_AFTER_SECONDS (an answer now beats one minutes late)."""
        calibration = workspace_calibration(self.db, team_id)
        if self.llm_busy(asked_at):
            return BusyFallback(calibrated(OfflineCritiqueEngine(), calibration))
        return for_user(self.critique_engine, team_id, user_id, calibration)

    def llm_busy(self, asked_at: float) -> bool:
        """Whether work asked at `asked_at` waited so long for an LLM slot that the offline
        engines should answer it now."""
        waited = time.time() - asked_at
        return self.settings.llm_enabled and waited > self.settings.busy_after_seconds

    def enqueue(self, job: Job) -> None:
        self.jobs.enqueue(job)

    def close(self) -> None:
        self.jobs.close()
        self.db.dispose()


@dataclass(frozen=True)
class BusyFallback:
    """The offline engine standing in for a busy LLM engine; its critiques say so."""

    offline: CritiqueEngine

    def critique(self, request: CritiqueRequest) -> Critique:
        return self.offline.critique(request).model_copy(update={"fallback_reason": "llm_busy"})
