"""The ASAP rubric as data: loads `prompts/critique/*.toml` into compiled, immutable rules.

The phrase lists, levels, tips and rewrite sentences live in the TOML files so a team can extend
them without touching code; `prompts/critique/README.md` explains the format.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from bot.coaching.critique import STEPS, StepName, TriggerKind

RewriteAction = Literal["keep", "replace_clause", "remove_phrase", "soften_case"]


def critique_data(name: str) -> str:
    """The text of one file in `prompts/critique/` (installed as `bot.prompts`)."""
    return (files("bot.prompts") / "critique" / name).read_text(encoding="utf-8")


def _compile(patterns: list[str]) -> re.Pattern[str]:
    """One regex for a list of patterns, arranged for speed.

    No IGNORECASE: patterns run on already-lowercased text (or, for case-sensitive rules, are
    meant to see case), and the flag makes matching several times slower. Patterns that start
    with a word boundary share one `\\b` in front: the engine then tries the alternatives only at
    word boundaries, and skips those whose first letter does not match at once.
    """
    at_word = [pattern.removeprefix(r"\b") for pattern in patterns if pattern.startswith(r"\b")]
    others = [pattern for pattern in patterns if not pattern.startswith(r"\b")]
    groups = [r"\b(?:" + "|".join(f"(?:{p})" for p in at_word) + ")"] if at_word else []
    groups += [f"(?:{pattern})" for pattern in others]
    return re.compile("|".join(groups))


@dataclass(frozen=True)
class Cue:
    """Phrases that earn a level; `overrides`: beats other cues' matches inside its own.

    `standalone = False`: a match counts only where it overrides another cue's match (a policy
    statement lowers the step its time expression seemed to earn, but earns nothing alone).
    """

    name: str
    level: int
    pattern: re.Pattern[str]
    overrides: bool = False
    standalone: bool = True

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Cue:
        return cls(
            name=data["name"],
            level=data["level"],
            pattern=_compile(data["patterns"]),
            overrides=data.get("overrides", False),
            standalone=data.get("standalone", True),
        )


@dataclass(frozen=True)
class Cap:
    """Lowers a step to `max_level` when the reply also has given triggers or phrases."""

    name: str
    max_level: int
    when_triggers: frozenset[TriggerKind]
    pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class Lift:
    """A step with no cue borrows `level` from `from_step` when that scored `min_score`+."""

    from_step: StepName
    min_score: int
    level: int


@dataclass(frozen=True)
class StepRubric:
    name: StepName
    title: str
    tip_missing: str
    tip_partial: str
    summary: dict[str, str]  # done / partial / missing
    rewrite_add: str
    cues: tuple[Cue, ...]
    caps: tuple[Cap, ...]
    lift: Lift | None

    def tip(self, score: int) -> str:
        return {0: self.tip_missing, 1: self.tip_partial}.get(score, "")


@dataclass(frozen=True)
class TriggerRule:
    kind: TriggerKind
    why: str
    better: str
    pattern: re.Pattern[str]
    unless_nearby: re.Pattern[str] | None
    case_sensitive: bool
    rewrite: RewriteAction
    adds: str | None  # the sentence the suggested rewrite puts in the wording's place


@dataclass(frozen=True)
class WayOutRubric:
    tip: str
    rewrite: str
    at_fault: tuple[Cue, ...]
    offered: tuple[Cue, ...]


@dataclass(frozen=True)
class OverallWeights:
    points_per_done_step: float
    points_per_partial_step: float
    trigger_penalty: float
    max_trigger_penalty: float
    no_way_out_penalty: float


@dataclass(frozen=True)
class Guards:
    """Checks on what an LLM returns (`guards.toml`)."""

    injection: re.Pattern[str]
    promise_words: tuple[re.Pattern[str], ...]

    def looks_injected(self, text: str | None) -> bool:
        return bool(text) and self.injection.search(text.lower()) is not None

    def invented_promises(self, rewrite: str, reply: str) -> list[str]:
        """Promise words in `rewrite` that the agent's `reply` never used."""
        rewrite, reply = rewrite.lower(), reply.lower()
        return [
            found.group()
            for word in self.promise_words
            if (found := word.search(rewrite)) and not word.search(reply)
        ]


@dataclass(frozen=True)
class Rubric:
    steps: dict[StepName, StepRubric]
    triggers: tuple[TriggerRule, ...]
    kept_facts: str  # the rewrite's note of facts from a clause it dropped, "{details}" in it
    way_out: WayOutRubric
    overall: OverallWeights
    guards: Guards


def _load_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(critique_data(name))


def _step(name: StepName) -> StepRubric:
    data = _load_toml(f"{name}.toml")
    caps = tuple(
        Cap(
            name=cap["name"],
            max_level=cap["max_level"],
            when_triggers=frozenset(TriggerKind(kind) for kind in cap.get("when_triggers", [])),
            pattern=_compile(cap["patterns"]) if cap.get("patterns") else None,
        )
        for cap in data.get("caps", [])
    )
    lift = Lift(**data["lift"]) if "lift" in data else None
    return StepRubric(
        name=name,
        title=data["title"],
        tip_missing=data["tips"]["missing"],
        tip_partial=data["tips"]["partial"],
        summary=data["summary"],
        rewrite_add=data["rewrite"]["add"],
        cues=tuple(Cue.from_data(cue) for cue in data["cues"]),
        caps=caps,
        lift=lift,
    )


def _trigger(data: dict[str, Any]) -> TriggerRule:
    case_sensitive = data.get("case_sensitive", False)
    unless = data.get("unless_nearby")
    return TriggerRule(
        kind=TriggerKind(data["kind"]),
        why=data["why"],
        better=data["better"],
        pattern=_compile(data["patterns"]),
        unless_nearby=_compile(unless) if unless else None,
        case_sensitive=case_sensitive,
        rewrite=data["rewrite"],
        adds=data.get("adds"),
    )


@cache
def load_rubric() -> Rubric:
    way_out, guards = _load_toml("way_out.toml"), _load_toml("guards.toml")
    triggers = _load_toml("triggers.toml")
    return Rubric(
        steps={name: _step(name) for name in STEPS},
        triggers=tuple(_trigger(rule) for rule in triggers["triggers"]),
        kept_facts=triggers["kept_facts"],
        way_out=WayOutRubric(
            tip=way_out["tip"],
            rewrite=way_out["rewrite"],
            at_fault=tuple(Cue.from_data(cue) for cue in way_out["at_fault"]),
            offered=tuple(Cue.from_data(cue) for cue in way_out["offered"]),
        ),
        overall=OverallWeights(**_load_toml("overall.toml")),
        guards=Guards(
            injection=_compile(guards["injection"]),
            promise_words=tuple(re.compile(word) for word in guards["promise_words"]),
        ),
    )
