"""Turns step verdicts, triggers and the way-out judgement into a whole `Critique`: the overall
score, the one-line summary and a suggested rewrite (`rewrite.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching.critique import (
    Critique,
    EngineName,
    Steps,
    Trigger,
    WayOut,
)
from bot.coaching.rewrite import Cut, RewriteInput, suggest_rewrite
from bot.coaching.rubric import Rubric, TriggerRule
from bot.coaching.text import ReplyText, Span


@dataclass(frozen=True)
class FoundTrigger:
    """One occurrence of an inflaming wording in the reply, and the rule that found it."""

    rule: TriggerRule
    span: Span
    trigger: Trigger


def unique_triggers(found: list[FoundTrigger]) -> list[Trigger]:
    """The critique's triggers: each wording of each kind once, in the order found."""
    return list({(f.trigger.kind, f.trigger.quote): f.trigger for f in found}.values())


def overall_score(rubric: Rubric, steps: Steps, triggers: list[Trigger], way_out: WayOut) -> int:
    weights = rubric.overall
    points_per_level = {0: 0.0, 1: weights.points_per_partial_step, 2: weights.points_per_done_step}
    points = sum(points_per_level[verdict.score] for _, verdict in steps.items())
    kinds = {trigger.kind for trigger in triggers}
    points -= min(len(kinds) * weights.trigger_penalty, weights.max_trigger_penalty)
    if way_out.customer_at_fault and not way_out.offered:
        points -= weights.no_way_out_penalty
    return max(0, min(100, round(points)))


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def one_line_summary(rubric: Rubric, steps: Steps, triggers: list[Trigger], way_out: WayOut) -> str:
    levels = {0: "missing", 1: "partial", 2: "done"}
    said = [(v.score, rubric.steps[name].summary[levels[v.score]]) for name, v in steps.items()]
    good = [phrase for score, phrase in said if score == 2]
    weak = [phrase for score, phrase in said if score < 2]
    line = f"{_join(good)}, but {_join(weak)}" if good and weak else _join(good or weak)
    if triggers:
        kinds = sorted({trigger.kind.value.replace("_", " ") for trigger in triggers})
        line += f"; inflaming wording: {', '.join(kinds)}"
    if way_out.customer_at_fault and not way_out.offered:
        line += "; leaves an at-fault customer no way out"
    return line[0].upper() + line[1:] + "."


def compose_critique(
    rubric: Rubric,
    text: ReplyText,
    steps: Steps,
    found: list[FoundTrigger],
    way_out: WayOut,
    *,
    engine: EngineName,
    customer_message: str | None = None,
) -> Critique:
    """`customer_message`: what the reply answers, when known, for the rewrite to say back."""
    triggers = unique_triggers(found)
    cuts = [Cut(f.span, f.rule.rewrite, f.rule.adds) for f in found]
    draft = RewriteInput(text, steps, cuts, way_out, customer_message)
    return Critique(
        steps=steps,
        triggers=triggers,
        way_out=way_out,
        overall=overall_score(rubric, steps, triggers, way_out),
        summary=one_line_summary(rubric, steps, triggers, way_out),
        rewrite=suggest_rewrite(rubric, draft),
        engine=engine,
    )
