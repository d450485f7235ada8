"""What listeners and jobs need, built once per process and passed in explicitly.

Tests give the bot slow, broken or recording engines through `from_settings`' keyword arguments,
never by patching our classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching.critique import CritiqueEngine
from bot.coaching.engines import build_critique_engine
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
        db = Database(settings.database_url)
        # One engine per process: one OpenAI client and one token budget for critiques and the
        # practice critic.
        critique_engine = critique_engine or build_critique_engine(settings)
        practice = PracticeSessions.from_settings(
            db, settings, critic=critique_engine, persona=persona or build_persona(settings)
        )
        return cls(
            settings=settings,
            db=db,
            critique_engine=critique_engine,
            practice=practice,
            jobs=JobQueue(settings),
            slack=clients_by_team(settings, db, retry_rate_limits=True),
        )

    def enqueue(self, job: Job) -> None:
        self.jobs.enqueue(job)

    def close(self) -> None:
        self.jobs.close()
        self.db.dispose()
