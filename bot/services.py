"""What listeners and jobs need, built once per process and passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching.critique import CritiqueEngine
from bot.coaching.engines import build_critique_engine
from bot.settings import Settings
from bot.store.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    critique_engine: CritiqueEngine

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            critique_engine=build_critique_engine(settings),
        )
