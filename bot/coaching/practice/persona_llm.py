"""The LLM persona: a model words the customer's next message; the offline line is the fallback.

The model never decides anything: the mood and what the agent did come from the mood model and
are passed in each turn. Its output must be an in-character message: rubric words ("ASAP",
"score", "as an AI") reject it, Slack mentions are stripped, length is capped. Any error,
truncation or rejection, the turn's deadline (PERSONA_DEADLINE_SECONDS, retries included) or a
used-up workspace budget falls back to the offline persona's line; the tokens it spends are
counted against the workspace's budget.
"""

from __future__ import annotations

import copy
import logging
import re
from string import Template

from bot.coaching.allowance import LlmAllowance, PersonalAllowance, Refused
from bot.coaching.llm_calls import (
    Answered,
    DeadlineCalls,
    LLMFailure,
    Outcome,
    count_refused,
    refused,
    usage_of,
)
from bot.coaching.practice.persona import Cue, Turn
from bot.coaching.practice.persona_offline import OfflinePersona
from bot.coaching.privacy import Redactor
from bot.prompt_files import read_toml
from bot.settings import OpenAIApi, Settings
from bot.store.models import LlmKind, TurnRole

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
        calls: DeadlineCalls,
        *,
        model: str,
        api: OpenAIApi,
        fallback: OfflinePersona,
        max_output_tokens: int = MAX_OUTPUT_TOKENS,
        allowance: LlmAllowance | None = None,
    ) -> None:
        self.calls = calls
        self.model = model
        self.api = api
        self.fallback = fallback
        self.max_output_tokens = max_output_tokens
        self.allowance = allowance
        self.spending: PersonalAllowance | None = None  # set by for_user
        self.prompts = read_toml("practice", "persona_llm.toml")

    @classmethod
    def from_settings(
        cls, settings: Settings, fallback: OfflinePersona, allowance: LlmAllowance | None = None
    ) -> LlmPersona:
        calls = DeadlineCalls.from_settings(
            settings,
            LlmKind.persona,
            deadline_seconds=settings.persona_deadline_seconds,
            max_retries=min(MAX_RETRIES, settings.openai_max_retries),
        )
        return cls(
            calls,
            model=settings.openai_model,
            api=settings.openai_api,
            fallback=fallback,
            max_output_tokens=min(MAX_OUTPUT_TOKENS, settings.openai_max_output_tokens),
            allowance=allowance,
        )

    def for_user(self, team_id: str, user_id: str) -> LlmPersona:
        """This persona playing the customer for one person of one workspace: its tokens count
        against the workspace's budget."""
        if self.allowance is None:
            return self
        persona = copy.copy(self)
        persona.spending = self.allowance.of(team_id, user_id)
        return persona

    def speak(self, cue: Cue) -> str:
        offline_line = self.fallback.speak(cue)
        if cue.reaction is None:
            return offline_line  # the authored opening states the scenario's facts exactly
        if self.spending is not None and isinstance(self.spending.check(LlmKind.persona), Refused):
            count_refused(LlmKind.persona)
            return offline_line
        try:
            said = self.calls.call(lambda timeout: self._say(cue, offline_line, timeout))
        except LLMFailure as failure:
            log.warning("LLM persona fell back to the offline line: %s", failure.reason)
            return offline_line
        if self.spending is not None:
            self.spending.spend(LlmKind.persona, said.usage)
        return said.value

    def _say(self, cue: Cue, offline_line: str, timeout: float) -> Answered[str]:
        # Personal data in the agent's replies reaches the model as placeholders, put back after.
        redactor = Redactor()
        turn = self._turn_prompt(cue, offline_line, redactor)
        answered = self._ask(self._system_prompt(cue), turn, timeout)
        try:
            text = in_character(redactor.restore(answered.value), cue.scenario.persona.name)
        except PersonaTextRejected as rejected:
            # The call cost its tokens all the same: the workspace's budget counts them.
            if self.spending is not None:
                self.spending.spend(LlmKind.persona, answered.usage)
            raise LLMFailure(f"llm_out_of_character ({rejected})") from rejected
        return Answered(text, answered.usage)

    def _ask(self, system: str, turn: str, timeout: float) -> Answered[str]:
        if self.api is OpenAIApi.chat:
            completion = self.calls.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": turn}],
                max_completion_tokens=self.max_output_tokens,
                store=False,
                timeout=timeout,
            )
            choice = completion.choices[0]
            if choice.message.refusal:
                raise LLMFailure("llm_refusal", Outcome.refusal)
            if choice.finish_reason == "length":
                raise LLMFailure("llm_output_limit")
            return Answered(choice.message.content or "", usage_of(completion.usage))
        response = self.calls.client.responses.create(
            model=self.model,
            instructions=system,
            input=turn,
            max_output_tokens=self.max_output_tokens,
            store=False,
            timeout=timeout,
        )
        if response.status == "incomplete":
            raise LLMFailure("llm_output_limit")
        if refused(response):
            raise LLMFailure("llm_refusal", Outcome.refusal)
        return Answered(response.output_text, usage_of(response.usage))

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
