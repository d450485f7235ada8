"""Chooses the critique engine: the LLM engine when an OpenAI key is set, else offline; and hands
an engine out on behalf of one person (`for_user`), so the LLM engines keep to their allowance."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, Self, TypeVar, runtime_checkable

from bot.coaching.allowance import LlmAllowance
from bot.coaching.calibration import Calibration, calibrated
from bot.coaching.critique import CritiqueEngine
from bot.coaching.offline import OfflineCritiqueEngine
from bot.settings import Settings


class EngineChoice(StrEnum):
    auto = "auto"  # LLM when an OpenAI key is configured, else offline
    offline = "offline"
    llm = "llm"


class EngineUnavailable(RuntimeError):
    """The LLM engine was asked for but no OpenAI key is configured."""


def build_critique_engine(
    settings: Settings,
    choice: EngineChoice = EngineChoice.auto,
    calibration: Calibration | None = None,
    *,
    allowance: LlmAllowance | None = None,
) -> CritiqueEngine:
    """The engine to critique with; a team's `calibration` moves the offline engine's cut points
    (the LLM engine checks against that offline engine and falls back to it). With an
    `allowance`, an LLM engine handed out by `for_user` keeps to that person's and workspace's
    limits; without one (the CLI), it has none."""
    offline = calibrated(OfflineCritiqueEngine(), calibration)
    wants_llm = choice is EngineChoice.llm or (choice is EngineChoice.auto and settings.llm_enabled)
    if not wants_llm:
        return offline
    if not settings.llm_enabled:
        raise EngineUnavailable("the LLM engine needs OPENAI_API_KEY to be set")
    # Imported here: the LLM engine's module and what it loads (phone number metadata for the
    # redactor) take about 2 MB the offline bot has no use for; openai waits for the first call.
    from bot.coaching.llm import LLMCritiqueEngine

    return LLMCritiqueEngine.from_settings(settings, fallback=offline, allowance=allowance)


@runtime_checkable
class _PerUser(Protocol):
    def for_user(self, team_id: str, user_id: str) -> Self: ...


Engine = TypeVar("Engine")


def for_user(
    engine: Engine, team_id: str, user_id: str, calibration: Calibration | None = None
) -> Engine:
    """`engine` (a critique engine or a practice persona) working on behalf of `user_id` of
    `team_id`: an LLM engine checks and spends their allowance, and answers offline, labelled,
    when it is used up; a critique engine scores with the workspace's `calibration`. The other
    engines (a test's) come back as they are."""
    if isinstance(engine, OfflineCritiqueEngine):
        return calibrated(engine, calibration)
    if not isinstance(engine, _PerUser):
        return engine
    if calibration is None:
        return engine.for_user(team_id, user_id)
    return engine.for_user(team_id, user_id, calibration)
