"""The mood model: how one critiqued agent reply moves the role-played customer's mood.

Mood runs from 0 (calm and satisfied) to 100 (furious). ASAP steps calm the customer; triggers,
vague or unkeepable promises, repeating the same non-answer and cornering an at-fault customer
inflame them (METHOD.md §1-2). The weights are data (`prompts/practice/mood.toml`, overridable per
scenario). Only the critique moves the mood, so nothing the agent types at the persona model
("say you are satisfied") can, and a reply that earns nothing never lowers it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.coaching.critique import Critique, StepName, TriggerKind

MAX_MOOD = 100
Mood = Annotated[int, Field(ge=0, le=MAX_MOOD)]
Weight = Annotated[float, Field(ge=0)]
_CALMING_STEPS: tuple[StepName, ...] = ("apologize", "sympathize", "responsibility")
_QUOTE_LIMIT = 80


class Difficulty(StrEnum):
    mild = "mild"
    upset = "upset"
    furious = "furious"


class MoodBand(StrEnum):
    """Which pool of lines the customer speaks from, calmest first."""

    calming = "calming"
    upset = "upset"
    angry = "angry"
    furious = "furious"


class Reaction(StrEnum):
    """What the customer reacts to in the agent's reply, most provoking first."""

    cornered = "cornered"
    trigger = "trigger"
    overpromise = "overpromise"
    repeated = "repeated"
    vague = "vague"
    progress = "progress"
    heard = "heard"
    ignored = "ignored"


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BandFloors(_Rules):
    upset: Mood
    angry: Mood
    furious: Mood

    @model_validator(mode="after")
    def _rising(self) -> Self:
        if not self.upset < self.angry < self.furious:
            raise ValueError("band floors must rise: upset < angry < furious")
        return self


class CalmWeights(_Rules):
    apologize: Weight
    sympathize: Weight
    responsibility: Weight
    act: Weight
    way_out: Weight


class InflameWeights(_Rules):
    trigger: Weight
    cornered: Weight
    vague_promise: Weight
    overpromise: Weight
    repeated: Weight
    ignored: Weight


class DifficultyProfile(_Rules):
    start_mood: Mood
    calming: float = Field(gt=0, description="Multiplier of the mood points a reply takes off.")
    inflaming: float = Field(gt=0, description="Multiplier of the mood points a reply adds.")


class MoodRules(_Rules):
    satisfied_below: Mood
    give_up_after: int = Field(ge=1)
    repeat_similarity: float = Field(gt=0, le=1)
    bands: BandFloors
    calm: CalmWeights
    inflame: InflameWeights
    difficulty: dict[Difficulty, DifficultyProfile]

    @model_validator(mode="after")
    def _every_difficulty(self) -> Self:
        missing = set(Difficulty) - set(self.difficulty)
        if missing:
            raise ValueError(f"missing difficulty levels: {', '.join(sorted(missing))}")
        return self

    def band(self, mood: int) -> MoodBand:
        floors = self.bands
        if mood >= floors.furious:
            return MoodBand.furious
        if mood >= floors.angry:
            return MoodBand.angry
        return MoodBand.upset if mood >= floors.upset else MoodBand.calming


@dataclass(frozen=True)
class EarlierReply:
    text: str
    acted: bool


@dataclass(frozen=True)
class ReplySignals:
    """What in one reply the customer responds to, read from its critique."""

    steps: dict[StepName, int]
    trigger_kinds: frozenset[TriggerKind]
    trigger_quote: str | None
    customer_at_fault: bool
    cornered: bool
    way_out_offered: bool
    overpromise: str | None
    repeats: int
    vague_quote: str | None

    @property
    def acted(self) -> bool:
        """A concrete next step that can be kept: the only kind of reply that can satisfy."""
        return self.steps["act"] == 2 and self.overpromise is None

    @property
    def earned_nothing(self) -> bool:
        return not any(self.steps.values()) and not self.way_out_offered


def read_signals(
    critique: Critique,
    reply: str,
    *,
    customer_at_fault: bool,
    ruled_out_promise: str | None,
    earlier: Sequence[EarlierReply],
    repeat_similarity: float,
) -> ReplySignals:
    """`ruled_out_promise`: the agent's words promising what the scenario rules out, if any."""
    steps = {name: verdict.score for name, verdict in critique.steps.items()}
    blame = [t for t in critique.triggers if t.kind is TriggerKind.blame_customer]
    non_answer = steps["act"] < 2
    return ReplySignals(
        steps=steps,
        trigger_kinds=frozenset(trigger.kind for trigger in critique.triggers),
        trigger_quote=_short(critique.triggers[0].quote) if critique.triggers else None,
        customer_at_fault=customer_at_fault,
        cornered=customer_at_fault and bool(blame) and not critique.way_out.offered,
        way_out_offered=customer_at_fault and critique.way_out.offered,
        overpromise=ruled_out_promise,
        repeats=count_repeats(reply, earlier, repeat_similarity) if non_answer else 0,
        vague_quote=_short(critique.steps.act.evidence[0]) if steps["act"] == 1 else None,
    )


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def count_repeats(reply: str, earlier: Sequence[EarlierReply], similarity: float) -> int:
    """How many earlier non-answers this reply says again."""
    this = _normalised(reply)
    return sum(
        1
        for previous in earlier
        if not previous.acted
        and difflib.SequenceMatcher(None, this, _normalised(previous.text)).ratio() >= similarity
    )


def _short(quote: str) -> str:
    """The agent's words as the customer quotes them back: short, without final punctuation."""
    quote = quote.strip().rstrip(".!?,;:")
    return quote if len(quote) <= _QUOTE_LIMIT else quote[: _QUOTE_LIMIT - 1].rstrip() + "…"


@dataclass(frozen=True)
class MoodChange:
    before: int
    after: int
    calming: float
    inflaming: float
    reaction: Reaction
    quote: str | None

    @property
    def delta(self) -> int:
        return self.after - self.before


def calming_points(rules: MoodRules, signals: ReplySignals) -> float:
    """Partial steps only add to a step done fully: on their own ("Noted.", "We'll check") they
    are the hollow acknowledgement that calms no one."""
    if max(signals.steps.values()) < 2 and not signals.way_out_offered:
        return 0.0
    weights = rules.calm
    points = sum(getattr(weights, step) * signals.steps[step] for step in _CALMING_STEPS)
    if signals.acted:
        points += weights.act * signals.steps["act"]
    if signals.way_out_offered:
        points += weights.way_out
    return points


def inflaming_points(rules: MoodRules, signals: ReplySignals) -> float:
    weights = rules.inflame
    points = weights.trigger * len(signals.trigger_kinds) + weights.repeated * signals.repeats
    if signals.cornered:
        points += weights.cornered
    if signals.steps["act"] == 1:
        points += weights.vague_promise
    if signals.overpromise is not None:
        points += weights.overpromise
    if points == 0 and signals.earned_nothing:
        points = weights.ignored
    return points


def main_reaction(signals: ReplySignals) -> tuple[Reaction, str | None]:
    """The one thing in the reply the customer answers first, with the words to quote back."""
    if signals.cornered:
        return Reaction.cornered, signals.trigger_quote
    if signals.trigger_kinds:
        return Reaction.trigger, signals.trigger_quote
    if signals.overpromise is not None:
        return Reaction.overpromise, signals.overpromise
    if signals.repeats:
        return Reaction.repeated, None
    if signals.vague_quote is not None:
        return Reaction.vague, signals.vague_quote
    if signals.acted:
        return Reaction.progress, None
    return (Reaction.ignored, None) if signals.earned_nothing else (Reaction.heard, None)


def move_mood(
    rules: MoodRules, difficulty: Difficulty, mood: int, signals: ReplySignals
) -> MoodChange:
    profile = rules.difficulty[difficulty]
    calming = calming_points(rules, signals) * profile.calming
    inflaming = inflaming_points(rules, signals) * profile.inflaming
    after = max(0, min(MAX_MOOD, round(mood - calming + inflaming)))
    reaction, quote = main_reaction(signals)
    return MoodChange(mood, after, calming, inflaming, reaction, quote)
