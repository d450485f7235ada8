"""Chooses the persona engine: the LLM persona when an OpenAI key is set, else offline."""

from __future__ import annotations

from bot.coaching.allowance import LlmAllowance
from bot.coaching.practice.persona import Persona
from bot.coaching.practice.persona_offline import OfflinePersona
from bot.settings import Settings


def build_persona(
    settings: Settings, *, offline_only: bool = False, allowance: LlmAllowance | None = None
) -> Persona:
    """With an `allowance`, the LLM persona handed out by `engines.for_user` counts its tokens
    against the workspace's monthly budget and speaks offline once it is spent."""
    offline = OfflinePersona()
    if offline_only or not settings.llm_enabled:
        return offline
    from bot.coaching.practice.persona_llm import LlmPersona  # of no use to the offline bot

    return LlmPersona.from_settings(settings, fallback=offline, allowance=allowance)
