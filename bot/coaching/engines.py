"""Chooses the critique engine: the LLM engine when an OpenAI key is set, else offline."""

from __future__ import annotations

from enum import StrEnum

from bot.coaching.calibration import Calibration, calibrated
from bot.coaching.critique import CritiqueEngine
from bot.coaching.llm import LLMCritiqueEngine
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
) -> CritiqueEngine:
    """The engine to critique with; a team's `calibration` moves the offline engine's cut points
    (the LLM engine checks against that offline engine and falls back to it)."""
    offline = calibrated(OfflineCritiqueEngine(), calibration)
    wants_llm = choice is EngineChoice.llm or (choice is EngineChoice.auto and settings.llm_enabled)
    if not wants_llm:
        return offline
    if not settings.llm_enabled:
        raise EngineUnavailable("the LLM engine needs OPENAI_API_KEY to be set")
    return LLMCritiqueEngine.from_settings(settings, fallback=offline)
