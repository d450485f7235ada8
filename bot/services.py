"""What listeners and jobs need, built once per process and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching.critique import CritiqueEngine
from bot.coaching.engines import build_critique_engine
from bot.coaching.practice.service import PracticeSessions
from bot.settings import Settings
from bot.store.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    critique_engine: CritiqueEngine
    practice: PracticeSessions

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        critique_engine = build_critique_engine(settings)  # one client and token budget
        return cls(
            settings=settings,
            db=db,
            critique_engine=critique_engine,
            practice=PracticeSessions.from_settings(db, settings, critic=critique_engine),
        )
