"""The offline critique engine: deterministic rules and lexicons, no network, no model.

The rules are data (`prompts/critique/*.toml`, loaded by `rubric.py`); this module only applies
them: find cue phrases, keep the most specific, score each step, find triggers, and judge whether
an at-fault customer is given a way out.
"""

from __future__ import annotations

import re
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
from bot.coaching.features import borrowed, may_quote, reply_features
from bot.coaching.instructions import instruction_finder
from bot.coaching.language import languages, reads_as_english
from bot.coaching.rubric import Cue, Rubric, StepRubric, TriggerRule, WayOutRubric, load_rubric
from bot.coaching.scoring import Features, Scorer, default_scorer
from bot.coaching.text import QUOTED, ReplyText, Span

# Responsibility borrows from act, so act is judged first.
_STEP_ORDER: tuple[StepName, ...] = ("apologize", "sympathize", "act", "responsibility")
# Sentences quoted as one step's evidence, at most.
_MAX_QUOTES = 3


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
    """The sentences holding `spans` (where their words begin), each once, in reply order."""
    quotes: dict[int, str] = {}
    for span in sorted(spans, key=lambda span: span.start):
        index = text.sentence_index(text.trimmed(span).start)
        quotes.setdefault(index, text.quote(text.sentences[index]))
    return [quote for quote in quotes.values() if quote]


def _cap(rubric: StepRubric, text: ReplyText, trigger_kinds: set[TriggerKind]) -> int:
    """The highest level the step may reach, given the triggers and phrases in the reply."""
    level = 2
    for cap in rubric.caps:
        by_trigger = bool(cap.when_triggers & trigger_kinds)
        by_phrase = cap.pattern is not None and cap.pattern.search(text.folded) is not None
        if by_trigger or by_phrase:
            level = min(level, cap.max_level)
    return level


@dataclass(frozen=True)
class RuleVerdict:
    """A step as the rules alone judge it, and the matches behind its level."""

    verdict: StepVerdict
    spans: list[Span]
    cap: int  # the caps' limit (2: none applies), which the fitted score keeps too


def judge_step(
    rubric: StepRubric,
    matches: list[CueMatch],
    text: ReplyText,
    cap: int,
    judged: Mapping[StepName, RuleVerdict],
) -> RuleVerdict:
    """The highest cue level (or the level borrowed from another step), capped by `cap`."""
    lift = rubric.lift
    if matches:
        level = max(match.cue.level for match in matches)
        spans = [match.span for match in matches if match.cue.level == level]
    elif lift and judged[lift.from_step].verdict.score >= lift.min_score:
        level, spans = lift.level, judged[lift.from_step].spans
    else:
        level, spans = 0, []
    evidence = _quotes(text, spans)
    score = min(level, cap) if evidence else 0
    verdict = StepVerdict(score=score, evidence=evidence if score else [], tip=rubric.tip(score))
    return RuleVerdict(verdict, [text.trimmed(span) for span in spans] if score else [], cap)


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


# A sentence with a wall, a refusal or blame is no evidence of owning or acting (issue: evidence
# that contradicts itself). Sending the customer elsewhere is still a next step, pushed to them
# (GUIDELINES act 1: "please contact support at …"), but never ownership.
_WALLS = frozenset(
    {
        TriggerKind.policy_wall,
        TriggerKind.refusal,
        TriggerKind.blame_customer,
        TriggerKind.repeating,
        TriggerKind.sarcasm,
        TriggerKind.calm_down,
    }
)
_NOT_CREDITED: dict[StepName, frozenset[TriggerKind]] = {
    "act": _WALLS,
    "responsibility": _WALLS | {TriggerKind.passing_the_buck, TriggerKind.blame_others},
}


@dataclass(frozen=True)
class Reading:
    """Everything the rules find in one reply, before the scoring layer weighs it."""

    text: ReplyText
    creditable: ReplyText
    found: list[FoundTrigger]
    rules: dict[StepName, RuleVerdict]
    features: Features


def _without_sentences_of(
    text: ReplyText, found: list[FoundTrigger], kinds: frozenset[TriggerKind] | None
) -> ReplyText:
    if not kinds:
        return text
    return text.without(
        [
            text.sentences[text.sentence_index(occurrence.span.start)]
            for occurrence in found
            if occurrence.rule.kind in kinds
        ]
    )


_QUOTE_LINE = re.compile(r"(?m)^[ \t]*>[^\n]*")  # Slack's &gt; reads as > (text.py)
_CUSTOMER_VOICE = re.compile(r"(?:i|i'm|i've|my|me)\b")


def agent_voice(text: ReplyText, customer_message: str | None) -> ReplyText:
    """The reply minus what is not the agent speaking: Slack quote lines (`> …`) and quoted
    phrases that repeat the customer's words or speak as the customer ("I want…")."""
    customer = " ".join(ReplyText(customer_message or "").folded.split())
    quoted = [Span(*found.span()) for found in _QUOTE_LINE.finditer(text.masked)]
    for found in QUOTED.finditer(text.folded):
        inner = " ".join(found.group(1).split()).strip(" .,!?")
        if (customer and inner in customer) or _CUSTOMER_VOICE.match(inner):
            quoted.append(Span(*found.span()))
    return text.without(quoted)


def _weighed(rule: RuleVerdict) -> bool:
    """Whether the fitted layer decides the step: the rules' "done" stands, and a cap of 0 leaves
    nothing to decide."""
    return rule.verdict.score < 2 and rule.cap > 0


def _not_read(why: str) -> Critique:
    """A critique with no score: the reply is in a language the rules cannot read."""
    nothing = StepVerdict(score=0, evidence=[], tip="")
    return Critique(
        steps=Steps(**{name: nothing for name in STEPS}),
        way_out=WayOut(customer_at_fault=False, offered=False),
        overall=0,
        summary=why,
        rewrite="",
        engine=EngineName.offline,
        not_scored=why,
    )


class OfflineCritiqueEngine:
    """Critiques a reply with the rubric's rules and the fitted scoring layer: fast,
    deterministic, private."""

    def __init__(self, rubric: Rubric | None = None, scorer: Scorer | None = None) -> None:
        self.rubric = rubric or load_rubric()
        self.scorer = scorer or default_scorer()

    def read(self, request: CritiqueRequest, *, every_step: bool = True) -> Reading:
        """What the rules and features find in a reply. `every_step=False`: phrase features
        only for the steps the fitted layer will weigh (not those the rules call done, nor those
        a trigger caps at 0); fitting needs them all. A step capped at 0 that no other step
        borrows from reads no cues at all."""
        text = ReplyText(request.agent_reply)
        voice = agent_voice(text, request.customer_message)
        found = find_triggers(self.rubric.triggers, voice)
        kinds = {occurrence.rule.kind for occurrence in found}
        # Sentences that give the grader orders earn no credit (the LLM engine never sees them).
        creditable = voice.without(instruction_finder().sentences(request.agent_reply))
        rules: dict[StepName, RuleVerdict] = {}
        cue_spans: dict[StepName, dict[str, list[Span]]] = {}
        for name in _STEP_ORDER:
            rubric = self.rubric.steps[name]
            step_text = _without_sentences_of(creditable, found, _NOT_CREDITED.get(name))
            cap = _cap(rubric, step_text, kinds)
            cue_spans[name] = {}
            if cap == 0 and not borrowed(name):
                # 0, whatever it says; its cues are no content that lengthens the reply either
                rules[name] = judge_step(rubric, [], step_text, cap, rules)
                continue
            matches = find_cues(rubric.cues, step_text)
            rules[name] = judge_step(rubric, matches, step_text, cap, rules)
            # Where the words are: a match may begin on the blanks of a sentence not credited.
            matches = [CueMatch(match.cue, step_text.trimmed(match.span)) for match in matches]
            for match in matches:
                cue_spans[name].setdefault(match.cue.name, []).append(match.span)
        trigger_spans: dict[str, list[Span]] = {}
        for occurrence in found:
            trigger_spans.setdefault(occurrence.rule.kind.value, []).append(occurrence.span)
        features = reply_features(
            creditable,
            cue_spans,
            {name: (rule.verdict.score, rule.spans) for name, rule in rules.items()},
            trigger_spans,
            customer_message=request.customer_message,
            steps=STEPS if every_step else [name for name in STEPS if _weighed(rules[name])],
        )
        return Reading(text, creditable, found, rules, features)

    def _step(self, name: StepName, reading: Reading) -> StepVerdict:
        """A rule's "done" stands: its cues are the guidelines' own examples of a 2. Below that,
        the fitted weights decide, from everything the rules and features found."""
        rule = reading.rules[name]
        if not _weighed(rule):
            return rule.verdict
        model, features = self.scorer.steps[name], reading.features
        level = min(model.level(model.value(features.names())), rule.cap)
        quotable = [
            feature
            for feature in model.supporting(features)
            if features.fired[feature] and may_quote(feature, name)
        ]
        sentences: list[int] = []
        for feature in quotable:
            sentences += sorted(features.fired[feature] - set(sentences))
        text = reading.creditable
        evidence = _quotes(text, [text.sentences[index] for index in sentences[:_MAX_QUOTES]])
        score = level if evidence else 0
        tip = self.rubric.steps[name].tip(score)
        return StepVerdict(score=score, evidence=evidence if score else [], tip=tip)

    def critique(self, request: CritiqueRequest) -> Critique:
        if not reads_as_english(request.agent_reply):
            return _not_read(languages().message)
        reading = self.read(request, every_step=False)
        found = reading.found
        steps = Steps(**{name: self._step(name, reading) for name in STEPS})
        way_out = judge_way_out(
            self.rubric.way_out, request, reading.creditable, unique_triggers(found)
        )
        return compose_critique(
            self.rubric,
            reading.text,
            steps,
            found,
            way_out,
            engine=EngineName.offline,
            customer_message=request.customer_message,
        )
