"""The facts about a reply that the scoring layer weighs, each with the sentences it fired in.

Names are stable strings, since fitted weights refer to them:
- `cue:<step>:<cue name>` a rule cue of a step matched (after the more specific cues won);
- `rule:<step>=<level>` the level the rules alone give the step;
- `trigger:<kind>` an inflaming wording of that kind was found;
- `phrase:<name>` a phrase feature of `prompts/critique/features.toml` matched;
- `customer:<name>` a customer feature of that file matched the customer's message (context
  for judging the reply, as the reviewers use it; never quoted as evidence);
- `echo:<name>` a sentence of the reply says back the customer's own words;
- `shape:…` the reply's form: a question, a link, an exclamation, how long it is and whether it
  is one sentence (counted over the distinct sentences that hold a step's cue), whether the
  customer's message is known.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from bot.coaching.critique import STEPS, StepName
from bot.coaching.language import languages
from bot.coaching.rubric import _compile, critique_data
from bot.coaching.scoring import Features
from bot.coaching.text import QUOTED, ReplyText, Span

_WORD = re.compile(r"[a-z']+")
# Words (of the distinct sentences holding a cue) at which the length buckets change.
_LENGTHS = ((8, "very short"), (20, "short"), (45, "medium"), (90, "long"))


@dataclass(frozen=True)
class PhraseFeature:
    name: str
    pattern: re.Pattern[str]
    steps: frozenset[str]  # the steps whose score weighs it
    # features that silence it: in the same sentence of a reply, anywhere in a customer's message
    unless: frozenset[str] = frozenset()


@cache
def _feature_data() -> dict:
    return tomllib.loads(critique_data("features.toml"))


def _phrases(section: str) -> tuple[PhraseFeature, ...]:
    return tuple(
        PhraseFeature(
            entry["name"],
            _compile(entry["patterns"]),
            frozenset(entry["steps"]),
            frozenset(entry.get("unless", [])),
        )
        for entry in _feature_data()[section]
    )


@cache
def phrase_features() -> tuple[PhraseFeature, ...]:
    """Wordings of the reply."""
    return _phrases("features")


@cache
def customer_features() -> tuple[PhraseFeature, ...]:
    """Wordings of the customer's message the reply answers."""
    return _phrases("customer")


# Cues and rule levels of another step that bear on a step: "sorry to hear that" is also a
# generic acknowledgement (GUIDELINES), a next step implies engaging with the problem.
_BORROWS: dict[str, frozenset[str]] = {
    "apologize": frozenset({"apologize"}),
    "sympathize": frozenset({"sympathize", "apologize"}),
    "responsibility": frozenset({"responsibility", "act"}),
    "act": frozenset({"act"}),
}


@dataclass(frozen=True)
class EchoFeature:
    name: str
    steps: frozenset[str]
    min_shared: int
    ignore: frozenset[str]


_STEM = 5  # words are compared on their first letters: "waited" meets "waiting"
_CONTENT_WORD = re.compile(r"[a-z][a-z']{3,}")


@cache
def echo_feature() -> EchoFeature:
    data = _feature_data()["echo"]
    ignore = frozenset(data["ignore"]) | languages().english
    return EchoFeature(data["name"], frozenset(data["steps"]), data["min_shared"], ignore)


def _stems(text: str, ignore: frozenset[str]) -> set[str]:
    return {word[:_STEM] for word in _CONTENT_WORD.findall(text) if word not in ignore}


def borrowed(step: StepName) -> bool:
    """Whether another step weighs this step's cues or level."""
    return any(step in steps for other, steps in _BORROWS.items() if other != step)


@cache
def _phrase_steps() -> dict[str, frozenset[str]]:
    return {
        **{f"phrase:{feature.name}": feature.steps for feature in phrase_features()},
        **{f"customer:{feature.name}": feature.steps for feature in customer_features()},
        f"echo:{echo_feature().name}": echo_feature().steps,
    }


def weighed_for(feature: str, step: StepName) -> bool:
    """Whether `step`'s score weighs `feature` at all."""
    kind, _, rest = feature.partition(":")
    if kind == "cue":
        return rest.split(":", 1)[0] in _BORROWS[step]
    if kind == "rule":
        owner = rest.split("=", 1)[0]
        return owner == step or (step, owner) == ("responsibility", "act")
    if kind in ("phrase", "customer", "echo"):
        return step in _phrase_steps().get(feature, frozenset())
    return kind in ("trigger", "shape")


def may_quote(feature: str, step: StepName) -> bool:
    """Whether the sentences of `feature` can be shown as the evidence of `step`: wordings can
    (a cue, a rule's level, a phrase), and a question or a link for owning and acting (asking for
    details, sending the exact article); triggers and the reply's length never."""
    kind = feature.partition(":")[0]
    if kind in ("cue", "rule", "phrase", "echo"):
        return True
    return feature in ("shape:question", "shape:link") and step in ("responsibility", "act")


def _sentences(text: ReplyText, spans: Iterable[Span]) -> set[int]:
    return {text.sentence_index(span.start) for span in spans}


def reply_features(
    text: ReplyText,
    cue_spans: Mapping[StepName, Mapping[str, list[Span]]],
    rule_levels: Mapping[StepName, tuple[int, list[Span]]],
    trigger_spans: Mapping[str, list[Span]],
    customer_message: str | None,
    steps: Collection[StepName] = STEPS,
) -> Features:
    """The features of a reply; phrases are searched only when one of `steps` weighs them (a
    step's score uses only the features it weighs, so the others need not be found)."""
    features = Features()
    for step, cues in cue_spans.items():
        for cue, spans in cues.items():
            features.add(f"cue:{step}:{cue}", _sentences(text, spans))
    for step, (level, spans) in rule_levels.items():
        features.add(f"rule:{step}={level}", _sentences(text, spans))
    for kind, spans in trigger_spans.items():
        features.add(f"trigger:{kind}", _sentences(text, spans))
    for name, sentences in _phrase_sentences(text, steps).items():
        features.add(f"phrase:{name}", sentences)
    _add_shape(features, text, bool(customer_message), _said(features))
    if customer_message:
        customer = ReplyText(customer_message).folded
        _add_customer(features, customer)
        if not echo_feature().steps.isdisjoint(steps):
            _add_echo(features, text, customer)
    return features


def _phrase_sentences(text: ReplyText, steps: Collection[StepName]) -> dict[str, set[int]]:
    """Where each phrase feature that one of `steps` weighs fired, minus the sentences where a
    feature it names in `unless` fired too (a day in a thank-you is no time window)."""
    wanted = [phrase for phrase in phrase_features() if not phrase.steps.isdisjoint(steps)]
    searched = {phrase.name for phrase in wanted}.union(*(phrase.unless for phrase in wanted))
    found: dict[str, set[int]] = {}
    for phrase in phrase_features():
        if phrase.name in searched:
            hits = [Span(*match.span()) for match in phrase.pattern.finditer(text.folded)]
            found[phrase.name] = _sentences(text, hits)
    kept = {
        phrase.name: found[phrase.name].difference(*(found[name] for name in phrase.unless))
        for phrase in wanted
    }
    return {name: sentences for name, sentences in kept.items() if sentences}


def _add_echo(features: Features, text: ReplyText, customer: str) -> None:
    echo = echo_feature()
    # What the customer quotes ("'I'm looking into it'? That means nothing") is the agent's own
    # words said back to them: saying it again is no echo of the customer.
    theirs = _stems(QUOTED.sub(" ", customer), echo.ignore)
    if len(theirs) < echo.min_shared:
        return
    for index, span in enumerate(text.sentences):
        if len(_stems(text.folded[span.start : span.end], echo.ignore) & theirs) >= echo.min_shared:
            features.add(f"echo:{echo.name}", [index])


def _add_customer(features: Features, customer: str) -> None:
    matched = {feature.name for feature in customer_features() if feature.pattern.search(customer)}
    for feature in customer_features():
        if feature.name in matched and not feature.unless & matched:
            features.add(f"customer:{feature.name}")


def _said(features: Features) -> set[int]:
    """The sentences that hold a step's cue: what the reply says that the rules credit."""
    return set().union(
        *(where for name, where in features.fired.items() if name.startswith("cue:"))
    )


def _add_shape(features: Features, text: ReplyText, customer_known: bool, said: set[int]) -> None:
    sentences = text.sentences
    for index, span in enumerate(sentences):
        body = text.folded[span.start : span.end].rstrip()
        if body.endswith("?"):
            features.add("shape:question", [index])
        if "!" in body and index in said:  # "Have a great day!" is no warmth of the reply
            features.add("shape:exclamation", [index])
        if text.links(span):
            features.add("shape:link", [index])
    # Length counts only the sentences a cue credits, each wording once: filler ("thanks again
    # for writing in") and repetition earn nothing (issue 13), however long they make a reply.
    distinct = {
        tuple(_WORD.findall(text.folded[sentences[i].start : sentences[i].end])) for i in said
    }
    distinct.discard(())
    words = sum(map(len, distinct))
    bucket = next((name for limit, name in _LENGTHS if words <= limit), "very long")
    features.add(f"shape:length {bucket}")
    if len(distinct) == 1:
        features.add("shape:one sentence")
    if customer_known:
        features.add("shape:customer message known")
