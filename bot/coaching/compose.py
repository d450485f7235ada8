"""Turns step verdicts, triggers and the way-out judgement into a whole `Critique`: the overall
score, the one-line summary and a suggested rewrite.

The rewrite keeps the agent's own sentences (their facts) and only adds what the method asks for.
Anything only the agent can know (what will happen, when) is a [placeholder], never an invented
refund or promise.
"""

from __future__ import annotations

import re

from bot.coaching.critique import (
    Critique,
    EngineName,
    Steps,
    Trigger,
    WayOut,
)
from bot.coaching.rubric import Rubric, TriggerRule
from bot.coaching.text import ReplyText

_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+)+")
_REPEATED_BANGS = re.compile(r"!{2,}")
_DANGLING_START = re.compile(r"^[\s,;:\u2013-]+")
_ORPHAN_COMMAS = re.compile(r",\s*,|\s*,\s*(?=[.;:!?])")  # left where a phrase was cut out


def overall_score(rubric: Rubric, steps: Steps, triggers: list[Trigger], way_out: WayOut) -> int:
    weights = rubric.overall
    points = sum(verdict.score for _, verdict in steps.items()) * weights.points_per_step_level
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


def _soften(sentence: str, quote: str) -> str:
    if quote.startswith("!"):
        return _REPEATED_BANGS.sub("!", sentence)
    return sentence.replace(quote, quote.lower())


def _rewrite_sentence(sentence: str, found: list[tuple[TriggerRule, Trigger]]) -> str | None:
    """The agent's sentence with its trigger wording handled, or None to drop it."""
    for rule, trigger in found:
        if rule.rewrite == "drop_sentence":
            return None
        if rule.rewrite == "remove_phrase":
            sentence = sentence.replace(trigger.quote, "", 1)
            sentence = " ".join(_ORPHAN_COMMAS.sub("", _DANGLING_START.sub("", sentence)).split())
            sentence = sentence[:1].upper() + sentence[1:]
        elif rule.rewrite == "soften_case":
            sentence = _soften(sentence, trigger.quote)
    return sentence.strip() or None


def suggest_rewrite(
    rubric: Rubric, text: ReplyText, steps: Steps, triggers: list[Trigger], way_out: WayOut
) -> str:
    rules = {rule.kind: rule for rule in rubric.triggers}
    opening: list[str] = []
    if way_out.customer_at_fault and not way_out.offered:
        opening.append(rubric.way_out.rewrite)
    for name in ("apologize", "sympathize"):
        if getattr(steps, name).score < 2:
            opening.append(rubric.steps[name].rewrite_add)
    body: list[str] = []
    for span in text.sentences:
        sentence = text.quote(span)
        found = [(rules[t.kind], t) for t in triggers if t.quote in sentence]
        if (kept := _rewrite_sentence(sentence, found)) is not None:
            body.append(kept)
    closing = list(
        dict.fromkeys(rules[t.kind].follow_up for t in triggers if rules[t.kind].follow_up)
    )
    for name in ("responsibility", "act"):
        if getattr(steps, name).score < 2:
            closing.append(rubric.steps[name].rewrite_add)
    handles = _LEADING_HANDLES.match(text.original)
    prefix = [handles.group().strip()] if handles else []
    return " ".join(prefix + opening + body + closing)


def compose_critique(
    rubric: Rubric,
    text: ReplyText,
    steps: Steps,
    triggers: list[Trigger],
    way_out: WayOut,
    *,
    engine: EngineName,
) -> Critique:
    return Critique(
        steps=steps,
        triggers=triggers,
        way_out=way_out,
        overall=overall_score(rubric, steps, triggers, way_out),
        summary=one_line_summary(rubric, steps, triggers, way_out),
        rewrite=suggest_rewrite(rubric, text, steps, triggers, way_out),
        engine=engine,
    )
