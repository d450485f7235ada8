"""The fitted scoring layer of the offline engine: weighs the evidence the rules find.

The rules (`prompts/critique/*.toml`) say *where* a reply apologises, owns, acts or inflames; this
layer says *how much* that is worth, with weights fitted on labelled replies
(`prompts/critique/weights.json`, made by `asap-coach calibrate … --all-weights`). Each feature is
a fact about the reply: a rule's cue matched, a trigger was found, a sentence is a question,
holds a link, has "I" or "you" as its subject. Features that fired somewhere remember the
sentences where they did, so a score is always backed by the words that earned it: the evidence
of a step is the sentences of the features that pushed it up.

Each step is an ordinal logistic model (one weight per feature, two thresholds: 0|1 and 1|2);
scoring a reply is a sum of a few dozen weights. Triggers stay with the rules: a fitted trigger
layer lowered trigger F1 on every split it was tried on (BENCHMARKS.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bot.coaching.critique import STEPS, StepName
from bot.coaching.rubric import critique_data

WEIGHTS_FILE = "weights.json"


@dataclass
class Features:
    """The features of one reply: name -> the sentence indices where it fired (empty: a feature
    of the whole reply, such as its length, that cannot be quoted)."""

    fired: dict[str, set[int]] = field(default_factory=dict)

    def add(self, name: str, sentences: Iterable[int] = ()) -> None:
        self.fired.setdefault(name, set()).update(sentences)

    def names(self) -> set[str]:
        return set(self.fired)


@dataclass(frozen=True)
class StepModel:
    """Ordinal logistic: level = how many of the two thresholds the weighted sum passes."""

    weights: Mapping[str, float]
    thresholds: tuple[float, float]
    scale: float = 1.0  # a team's calibration rescales the sum and moves the thresholds

    def value(self, names: Iterable[str]) -> float:
        return self.scale * sum(self.weights.get(name, 0.0) for name in names)

    def level(self, value: float) -> int:
        return sum(value > threshold for threshold in self.thresholds)

    def supporting(self, features: Features) -> list[str]:
        """The quotable features that raised the sum, strongest first."""
        raised = [(self.weights.get(name, 0.0), name) for name, where in features.fired.items()]
        return [name for weight, name in sorted(raised, reverse=True) if weight > 0]

    def to_data(self) -> dict[str, Any]:
        return {
            "thresholds": [round(t, 4) for t in self.thresholds],
            "scale": round(self.scale, 4),
            "weights": {name: round(w, 4) for name, w in sorted(self.weights.items()) if w},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StepModel:
        low, high = data["thresholds"]
        return cls(dict(data["weights"]), (float(low), float(high)), float(data.get("scale", 1)))


@dataclass(frozen=True)
class Scorer:
    steps: Mapping[StepName, StepModel]
    provenance: Mapping[str, Any]  # the command and data that produced the weights

    def to_data(self) -> dict[str, Any]:
        return {
            "provenance": dict(self.provenance),
            "steps": {name: self.steps[name].to_data() for name in STEPS},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Scorer:
        return cls(
            steps={name: StepModel.from_data(data["steps"][name]) for name in STEPS},
            provenance=data.get("provenance", {}),
        )

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_data(), indent=1) + "\n", encoding="utf-8")


@cache
def default_scorer() -> Scorer:
    return Scorer.from_data(json.loads(critique_data(WEIGHTS_FILE)))


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1 / (1 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1 + exp)
