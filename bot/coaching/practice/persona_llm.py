"""The LLM persona: a model words the customer's next message; the offline line is the fallback.

The model never decides anything: the mood and what the agent did come from the mood model and
are passed in each turn. Its output must be an in-character message: rubric words ("ASAP",
"score", "as an AI") reject it, Slack mentions are stripped, length is capped. Any error, timeout,
truncation or rejection falls back to the offline persona's line.
"""

from __future__ import annotations

import logging
import re
from string import Template

import openai

from bot.coaching.practice.persona import Cue, Turn
from bot.coaching.practice.persona_offline import OfflinePersona
from bot.coaching.privacy import Redactor
from bot.prompt_files import read_toml
from bot.settings import OpenAIApi, Settings
from bot.store.models import TurnRole

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 600
MAX_OUTPUT_TOKENS = 250
# Retrying once rides out a blip; more would keep a live practice partner waiting.
# OPENAI_MAX_RETRIES and OPENAI_MAX_OUTPUT_TOKENS lower these, never raise them.
MAX_RETRIES = 1
_SLACK_MENTION = re.compile(r"<[@!#][^>]*>")
_ROLE_LABEL = re.compile(r"^\s*(?:customer|\w+ \(customer\))\s*:\s*", re.IGNORECASE)
_OUT_OF_CHARACTER = re.compile(
    r"\b(?:asap|scores?|scored|scoring|rubric|critique|coaching|role-?play(?:ing)?|"
    r"training exercise|as an ai|language model|system prompt|mood)\b",
    re.IGNORECASE,
)
_OPENING_QUOTES = "\"'\u201c\u2018"  # straight, curly double and curly single
_CLOSING_QUOTES = "\"'\u201d\u2019"
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


class PersonaTextRejected(ValueError):
    """The model's text cannot be shown as the customer's message."""


def in_character(text: str, persona_name: str) -> str:
    """The model's text as a customer message, or PersonaTextRejected."""
    text = _SLACK_MENTION.sub("", text).strip()
    text = re.sub(rf"^\s*{re.escape(persona_name)}\s*:\s*", "", text, flags=re.IGNORECASE)
    text = _unquoted(" ".join(_ROLE_LABEL.sub("", text).split()))
    if not text:
        raise PersonaTextRejected("empty")
    leak = _OUT_OF_CHARACTER.search(text)
    if leak:
        raise PersonaTextRejected(f"out of character: {leak.group(0)!r}")
    return _capped(text)


def _unquoted(text: str) -> str:
    """Without the quotation marks a model sometimes wraps a whole line of dialogue in."""
    if len(text) >= 2 and text[0] in _OPENING_QUOTES and text[-1] in _CLOSING_QUOTES:
        return text[1:-1].strip()
    return text


def _capped(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    head = text[:MAX_MESSAGE_CHARS]
    ends = [match.end() for match in _SENTENCE_END.finditer(head)]
    return head[: ends[-1]] if ends else head[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"


def _transcript(turns: tuple[Turn, ...], persona_name: str, redactor: Redactor) -> str:
    speaker = {TurnRole.customer: f"You ({persona_name})", TurnRole.agent: "Support agent"}
    return "\n".join(f"{speaker[turn.role]}: {redactor.redact(turn.text)}" for turn in turns)


class LlmPersona:
    engine = "llm"

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        model: str,
        api: OpenAIApi,
        fallback: OfflinePersona,
        max_output_tokens: int = MAX_OUTPUT_TOKENS,
    ) -> None:
        self.client = client
        self.model = model
        self.api = api
        self.fallback = fallback
        self.max_output_tokens = max_output_tokens
        self.prompts = read_toml("practice", "persona_llm.toml")

    @classmethod
    def from_settings(cls, settings: Settings, fallback: OfflinePersona) -> LlmPersona:
        key = settings.openai_api_key
        client = openai.OpenAI(
            api_key=key.get_secret_value() if key else None,
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout_seconds,
            max_retries=min(MAX_RETRIES, settings.openai_max_retries),
        )
        return cls(
            client,
            model=settings.openai_model,
            api=settings.openai_api,
            fallback=fallback,
            max_output_tokens=min(MAX_OUTPUT_TOKENS, settings.openai_max_output_tokens),
        )

    def speak(self, cue: Cue) -> str:
        offline_line = self.fallback.speak(cue)
        if cue.reaction is None:
            return offline_line  # the authored opening states the scenario's facts exactly
        # Personal data in the agent's replies reaches the model as placeholders, put back after.
        redactor = Redactor()
        try:
            turn = self._turn_prompt(cue, offline_line, redactor)
            text = redactor.restore(self._ask(self._system_prompt(cue), turn))
            return in_character(text, cue.scenario.persona.name)
        # ValueError: besides rejected text, a body that is not the JSON the client expects.
        except (openai.OpenAIError, ValueError) as error:
            log.warning("LLM persona fell back to the offline line: %s", _reason(error))
            return offline_line

    def _ask(self, system: str, turn: str) -> str:
        if self.api is OpenAIApi.chat:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": turn}],
                max_completion_tokens=self.max_output_tokens,
                store=False,
            )
            choice = completion.choices[0]
            if choice.finish_reason == "length":
                raise PersonaTextRejected("cut off at the output token limit")
            return choice.message.content or ""
        response = self.client.responses.create(
            model=self.model,
            instructions=system,
            input=turn,
            max_output_tokens=self.max_output_tokens,
            store=False,
        )
        if response.status == "incomplete":
            raise PersonaTextRejected("cut off at the output token limit")
        return response.output_text

    def _system_prompt(self, cue: Cue) -> str:
        scenario = cue.scenario
        fault = "at_fault" if scenario.facts.customer_at_fault else "not_at_fault"
        return Template(self.prompts["system"]).substitute(
            name=scenario.persona.name,
            background=scenario.persona.background,
            voice=scenario.persona.voice,
            facts=" ".join([scenario.facts.summary, *scenario.facts.details]),
            fault=self.prompts[fault],
            wants="; ".join(scenario.wants),
        )

    def _turn_prompt(self, cue: Cue, suggestion: str, redactor: Redactor) -> str:
        reaction = Template(self.prompts["reactions"][cue.reaction.value])
        instruction = self.prompts["instructions"].get(cue.status.value, "")
        return Template(self.prompts["turn"]).substitute(
            transcript=_transcript(cue.transcript, cue.scenario.persona.name, redactor),
            feeling=self.prompts["feelings"][cue.band.value],
            reaction=reaction.substitute(quote=redactor.redact(cue.quote) or ""),
            offers=self._offers(cue, redactor),
            instruction=instruction,
            suggestion=suggestion,
        )

    def _offers(self, cue: Cue, redactor: Redactor) -> str:
        """Which offers the agent made, what is still missing, and a promise to test."""
        texts = self.prompts["offers"]
        made = "; ".join(offer.said or offer.offer for offer in cue.offers_made)
        lines = [Template(texts["made"]).substitute(made=made) if made else texts["none"]]
        if cue.still_missing:
            lines.append(Template(texts["missing"]).substitute(ask=cue.still_missing))
        if cue.ruled_out:
            quote = redactor.redact(cue.ruled_out[1]) or ""
            lines.append(Template(texts["ruled_out"]).substitute(quote=quote))
        return "\n".join(lines)


def _reason(error: Exception) -> str:
    """Why, without echoing model output or request text into the logs."""
    return str(error) if isinstance(error, PersonaTextRejected) else type(error).__name__
