"""The offline critique engine: deterministic rules and lexicons, no network, no model.

The rules are data (`prompts/critique/*.toml`, loaded by `rubric.py`); this module only applies
them: find cue phrases, keep the most specific, score each step, find triggers, and judge whether
an at-fault customer is given a way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.coaching.compose import FoundTrigger, compose_critique, unique_triggers
from bot.coaching.critique import (
    STEPS,
    Critique,
    CritiqueRequest,
    EngineName,
    StepName,
    Steps,
    StepVerdict,
    Trigger,
    TriggerKind,
    WayOut,
)
from bot.coaching.rubric import Cue, Rubric, StepRubric, TriggerRule, WayOutRubric, load_rubric
from bot.coaching.text import ReplyText, Span

# Responsibility borrows from act, so act is judged first.
_STEP_ORDER: tuple[StepName, ...] = ("apologize", "sympathize", "act", "responsibility")


@dataclass(frozen=True)
class CueMatch:
    cue: Cue
    span: Span


def find_cues(cues: Iterable[Cue], text: ReplyText) -> list[CueMatch]:
    """Every cue match, minus those inside a longer match of an overriding cue.

    A cue that is not `standalone` only lowers a step: it counts only where it overrides a match
    of a higher level, so it is searched only in the sentences that hold one (its patterns stay
    within a sentence).
    """
    cues = tuple(cues)
    matches = [
        CueMatch(cue, Span(*found.span()))
        for cue in cues
        if cue.standalone
        for found in cue.pattern.finditer(text.folded)
        if found.end() > found.start()
    ]
    for cue in [cue for cue in cues if not cue.standalone]:
        holding = {text.sentence_index(m.span.start) for m in matches if m.cue.level > cue.level}
        matches += [
            CueMatch(cue, Span(*found.span()))
            for index in sorted(holding)
            for found in cue.pattern.finditer(
                text.folded, text.sentences[index].start, text.sentences[index].end
            )
            if found.end() > found.start()
        ]
    overriding = [match for match in matches if match.cue.overrides]
    if not overriding:
        return matches
    overridden = [
        match
        for match in matches
        if any(
            other.cue is not match.cue and other.span.contains(match.span) for other in overriding
        )
    ]
    return [
        match
        for match in matches
        if match not in overridden
        and (
            match.cue.standalone
            or any(
                inner.cue.level > match.cue.level and match.span.contains(inner.span)
                for inner in overridden
            )
        )
    ]


def _quotes(text: ReplyText, spans: Iterable[Span]) -> list[str]:
    """The sentences holding `spans`, each once, in reply order."""
    quotes: dict[int, str] = {}
    for span in sorted(spans, key=lambda span: span.start):
        index = text.sentence_index(span.start)
        quotes.setdefault(index, text.quote(text.sentences[index]))
    return [quote for quote in quotes.values() if quote]


def _capped(
    level: int, rubric: StepRubric, text: ReplyText, trigger_kinds: set[TriggerKind]
) -> int:
    for cap in rubric.caps:
        by_trigger = bool(cap.when_triggers & trigger_kinds)
        by_phrase = cap.pattern is not None and cap.pattern.search(text.folded) is not None
        if by_trigger or by_phrase:
            level = min(level, cap.max_level)
    return level


def judge_step(
    rubric: StepRubric,
    text: ReplyText,
    trigger_kinds: set[TriggerKind],
    judged: Mapping[StepName, StepVerdict],
) -> StepVerdict:
    matches = find_cues(rubric.cues, text)
    lift = rubric.lift
    if matches:
        level = max(match.cue.level for match in matches)
        evidence = _quotes(text, (m.span for m in matches if m.cue.level == level))
    elif lift and judged[lift.from_step].score >= lift.min_score:
        level, evidence = lift.level, judged[lift.from_step].evidence
    else:
        level, evidence = 0, []
    score = _capped(level, rubric, text, trigger_kinds) if evidence else 0
    return StepVerdict(score=score, evidence=evidence if score else [], tip=rubric.tip(score))


def _excused(rule: TriggerRule, text: ReplyText, found: Span) -> bool:
    """An excusing phrase in the same or next sentence, outside the wording itself."""
    if rule.unless_nearby is None:
        return False
    window = text.window(found.start)
    return any(
        rule.unless_nearby.search(text.folded, start, end) is not None
        for start, end in ((window.start, found.start), (found.end, window.end))
    )


def find_triggers(rules: Iterable[TriggerRule], text: ReplyText) -> list[FoundTrigger]:
    """Every occurrence of inflaming wording that nothing nearby excuses."""
    triggers: list[FoundTrigger] = []
    for rule in rules:
        haystack = text.masked if rule.case_sensitive else text.folded
        for found in rule.pattern.finditer(haystack):
            span = text.trimmed(Span(*found.span()))
            quote = text.original[span.start : span.end]
            if quote and not _excused(rule, text, span):
                trigger = Trigger(kind=rule.kind, quote=quote, why=rule.why, better=rule.better)
                triggers.append(FoundTrigger(rule, span, trigger))
    return triggers


def judge_way_out(
    rubric: WayOutRubric, request: CritiqueRequest, text: ReplyText, triggers: list[Trigger]
) -> WayOut:
    context = ReplyText(
        " \n".join(filter(None, [request.scenario_facts, request.customer_message]))
    )
    # Only the customer's own words or the scenario facts can show the customer was at fault:
    # an agent blaming them is a trigger, not evidence.
    admitted = find_cues(rubric.at_fault, context)
    at_fault = bool(admitted) and max(m.cue.level for m in admitted) > 0
    blamed = any(trigger.kind is TriggerKind.blame_customer for trigger in triggers)
    offers = [match for match in find_cues(rubric.offered, text) if match.cue.level > 0]
    offered = bool(offers) and not blamed
    return WayOut(
        customer_at_fault=at_fault,
        offered=offered,
        evidence=_quotes(text, (match.span for match in offers)) if offered else [],
        tip=rubric.tip if at_fault and not offered else "",
    )


class OfflineCritiqueEngine:
    """Critiques a reply with the rubric's rules: fast, deterministic, private."""

    def __init__(self, rubric: Rubric | None = None) -> None:
        self.rubric = rubric or load_rubric()

    def _without_injected(self, text: ReplyText) -> ReplyText:
        """The reply minus sentences that give the grader orders: they earn no credit."""
        injection = self.rubric.guards.injection
        return text.without(
            [span for span in text.sentences if injection.search(text.folded, span.start, span.end)]
        )

    def critique(self, request: CritiqueRequest) -> Critique:
        text = ReplyText(request.agent_reply)
        found = find_triggers(self.rubric.triggers, text)
        triggers = unique_triggers(found)
        kinds = {trigger.kind for trigger in triggers}
        creditable = self._without_injected(text)
        judged: dict[StepName, StepVerdict] = {}
        for name in _STEP_ORDER:
            judged[name] = judge_step(self.rubric.steps[name], creditable, kinds, judged)
        steps = Steps(**{name: judged[name] for name in STEPS})
        way_out = judge_way_out(self.rubric.way_out, request, creditable, triggers)
        return compose_critique(
            self.rubric,
            text,
            steps,
            found,
            way_out,
            engine=EngineName.offline,
            customer_message=request.customer_message,
        )
