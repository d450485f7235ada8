"""The scorecard at the end of a practice session: how it went and what to practise next."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from bot.coaching.critique import STEPS
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.persona import Turn
from bot.coaching.practice.scenarios import Family, Scenario
from bot.coaching.practice.session import MOOD_CHANGE, TRIGGER_PREFIX, WAY_OUT, overall_score
from bot.prompt_files import read_toml
from bot.store.models import SessionStatus, TurnRole

_QUOTE_LIMIT = 200


class ReplyHighlight(BaseModel):
    reply_number: int = Field(description="1 for the agent's first reply.")
    quote: str
    overall: int
    mood_change: int


class TriggerUse(BaseModel):
    kind: str
    replies: int = Field(description="How many replies used it.")
    first_quote: str = Field(description="The first reply that used it.")
    better: str


class OfferMade(BaseModel):
    offer: str = Field(description="The offer, as the scenario card words it.")
    reply_number: int = Field(description="The first reply that made it.")
    quote: str = Field(description="The agent's words that made it.")


class RuledOutPromise(BaseModel):
    what: str = Field(description="What the card says may not be offered, and why.")
    reply_number: int
    quote: str = Field(description="The agent's words that promised it.")


class Scorecard(BaseModel):
    scenario_id: str
    scenario_title: str
    family: Family
    difficulty: Difficulty
    outcome: SessionStatus
    outcome_text: str
    replies: int
    start_mood: int
    end_mood: int
    mood_trajectory: list[int] = Field(description="The start mood, then after each reply.")
    step_averages: dict[str, float]
    best_reply: ReplyHighlight | None
    worst_reply: ReplyHighlight | None = Field(description="None unless it differs from best.")
    triggers: list[TriggerUse]
    # Defaults: scorecards stored before these were recorded still load.
    offers_made: list[OfferMade] = Field(default_factory=list)
    offers_not_made: list[str] = Field(
        default_factory=list, description="The card's offers no reply made."
    )
    promises_ruled_out: list[RuledOutPromise] = Field(
        default_factory=list, description="Promises the card says may not be made."
    )
    practise_next: str


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1].rstrip() + "…"


def _highlight(number: int, turn: Turn) -> ReplyHighlight:
    scores = turn.step_scores or {}
    return ReplyHighlight(
        reply_number=number,
        quote=_quote(turn.text),
        overall=overall_score(turn),
        mood_change=scores.get(MOOD_CHANGE, 0),
    )


def _trigger_uses(replies: Sequence[Turn], advice: dict[str, str]) -> list[TriggerUse]:
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for turn in replies:
        for key in turn.step_scores or {}:
            if key.startswith(TRIGGER_PREFIX):
                kind = key.removeprefix(TRIGGER_PREFIX)
                counts[kind] += 1
                first.setdefault(kind, _quote(turn.text))
    return [
        TriggerUse(kind=kind, replies=count, first_quote=first[kind], better=advice.get(kind, ""))
        for kind, count in counts.most_common()
    ]


def _offers(
    scenario: Scenario, replies: Sequence[Turn]
) -> tuple[list[OfferMade], list[str], list[RuledOutPromise]]:
    """Which of the card's offers the replies made (first time each), which none made, and the
    promises they made that the card rules out."""
    made: dict[int, OfferMade] = {}
    ruled_out: list[RuledOutPromise] = []
    for number, turn in enumerate(replies, start=1):
        for heard in scenario.offers_made(turn.text):
            offer = scenario.offers.may[heard.index].offer
            made.setdefault(
                heard.index, OfferMade(offer=offer, reply_number=number, quote=heard.quote)
            )
        ruled_out += [
            RuledOutPromise(
                what=scenario.offers.may_not[heard.index].what,
                reply_number=number,
                quote=heard.quote,
            )
            for heard in scenario.promises_ruled_out(turn.text)
        ]
    not_made = [offer.offer for index, offer in enumerate(scenario.offers.may) if index not in made]
    return sorted(made.values(), key=lambda offer: offer.reply_number), not_made, ruled_out


def step_averages(replies: Sequence[Turn]) -> dict[str, float]:
    if not replies:
        return {step: 0.0 for step in STEPS}
    return {
        step: round(sum((t.step_scores or {}).get(step, 0) for t in replies) / len(replies), 2)
        for step in STEPS
    }


def _practise_next(
    replies: Sequence[Turn],
    averages: dict[str, float],
    triggers: list[TriggerUse],
    ruled_out: list[RuledOutPromise],
    texts: dict[str, Any],
) -> str:
    if triggers:
        return triggers[0].better
    if ruled_out:
        return texts["ruled_out"].format(what=ruled_out[0].what)
    # Only at-fault scenarios record the way out; advise it when no reply ever offered one.
    way_outs = [t.step_scores[WAY_OUT] for t in replies if WAY_OUT in (t.step_scores or {})]
    if way_outs and not any(way_outs):
        return texts["way_out"]
    weakest = min(STEPS, key=lambda step: averages[step])
    return texts["well_done"] if averages[weakest] >= 1.75 else texts["steps"][weakest]


def build_scorecard(
    scenario: Scenario, difficulty: Difficulty, status: SessionStatus, turns: Sequence[Turn]
) -> Scorecard:
    texts = read_toml("practice", "scorecard.toml")
    replies = [turn for turn in turns if turn.role is TurnRole.agent]
    start = scenario.start_mood(difficulty)
    averages = step_averages(replies)
    triggers = _trigger_uses(replies, texts["triggers"])
    ranked = sorted(
        enumerate(replies, start=1),
        key=lambda item: (overall_score(item[1]), -item[1].mood_after),
    )
    best = _highlight(*ranked[-1]) if ranked else None
    worst = _highlight(*ranked[0]) if len(ranked) > 1 else None
    made, not_made, ruled_out = _offers(scenario, replies)
    return Scorecard(
        scenario_id=scenario.id,
        scenario_title=scenario.title,
        family=scenario.family,
        difficulty=difficulty,
        outcome=status,
        outcome_text=texts["outcomes"][status.value],
        replies=len(replies),
        start_mood=start,
        end_mood=replies[-1].mood_after if replies else start,
        mood_trajectory=[start, *(turn.mood_after for turn in replies)],
        step_averages=averages,
        best_reply=best,
        worst_reply=worst,
        triggers=triggers,
        offers_made=made,
        offers_not_made=not_made,
        promises_ruled_out=ruled_out,
        practise_next=_practise_next(replies, averages, triggers, ruled_out, texts),
    )
