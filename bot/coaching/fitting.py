"""Fits the scoring layer's weights to labelled replies, in pure Python (no numpy needed).

Two uses (`asap-coach calibrate`):
- `fit_scorer`: every weight, from hundreds of labelled replies; this is how the shipped
  `prompts/critique/weights.json` was made from the tune fold of the training set.
- `calibrate_scorer`: a team's own labels keep the shipped weights and move only what a few dozen
  labels can move: for each step its two thresholds (where "partial" and "done" begin).

Both maximise the penalised likelihood with full-batch Adam from a fixed start, so the same
labels always give the same weights.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from bot.coaching.critique import STEPS, StepName
from bot.coaching.evaluation import quadratic_weighted_kappa
from bot.coaching.features import weighed_for
from bot.coaching.scoring import Scorer, StepModel, sigmoid

_EPSILON = 1e-9


@dataclass(frozen=True)
class Example:
    """One labelled reply: the names of its features, its gold labels and how much it counts
    (a label three reviewers agreed on may count more than one reviewer's)."""

    features: frozenset[str]
    gold: Mapping[str, int]
    weight: float = 1.0


class _Adam:
    def __init__(self, size: int, rate: float) -> None:
        self.rate, self.step = rate, 0
        self.first, self.second = [0.0] * size, [0.0] * size

    def update(self, params: list[float], grads: Sequence[float]) -> None:
        self.step += 1
        beta1, beta2 = 0.9, 0.999
        for i, grad in enumerate(grads):
            self.first[i] = beta1 * self.first[i] + (1 - beta1) * grad
            self.second[i] = beta2 * self.second[i] + (1 - beta2) * grad * grad
            corrected = self.first[i] / (1 - beta1**self.step)
            spread = math.sqrt(self.second[i] / (1 - beta2**self.step))
            params[i] -= self.rate * corrected / (spread + 1e-8)


def _ordinal_terms(value: float, low: float, high: float, gold: int) -> tuple[float, float, float]:
    """d(-log P(gold))/d value, /d low, /d high for an ordinal logistic with two thresholds."""
    above_low, above_high = sigmoid(value - low), sigmoid(value - high)
    if gold == 0:
        return above_low, -above_low, 0.0
    if gold == 2:
        return -(1 - above_high), 0.0, 1 - above_high
    slope_low, slope_high = above_low * (1 - above_low), above_high * (1 - above_high)
    between = max(above_low - above_high, _EPSILON)
    return (
        -(slope_low - slope_high) / between,
        slope_low / between,
        -slope_high / between,
    )


def _index(examples: Sequence[Example]) -> tuple[list[str], list[list[int]]]:
    names = sorted({name for example in examples for name in example.features})
    where = {name: i for i, name in enumerate(names)}
    return names, [[where[name] for name in example.features] for example in examples]


def fit_step(
    examples: Sequence[Example], step: StepName, *, l2: float, rounds: int = 400
) -> StepModel:
    """Weights for the features `step` weighs, and its two cut points."""
    examples = [
        Example(
            frozenset(name for name in example.features if weighed_for(name, step)),
            example.gold,
            example.weight,
        )
        for example in examples
    ]
    names, rows = _index(examples)
    gold = [example.gold[step] for example in examples]
    total = sum(example.weight for example in examples)
    shares = [example.weight / total for example in examples]
    weights = [0.0] * len(names)
    thresholds = [-0.5, 0.5]
    optimiser = _Adam(len(names) + 2, rate=0.05)
    for _ in range(rounds):
        grads = [l2 * w for w in weights] + [0.0, 0.0]
        for row, label, share in zip(rows, gold, shares, strict=True):
            value = sum(weights[i] for i in row)
            d_value, d_low, d_high = _ordinal_terms(value, thresholds[0], thresholds[1], label)
            for i in row:
                grads[i] += d_value * share
            grads[-2] += d_low * share
            grads[-1] += d_high * share
        params = weights + thresholds
        optimiser.update(params, grads)
        weights, thresholds = params[:-2], sorted(params[-2:])
    return StepModel(dict(zip(names, weights, strict=True)), (thresholds[0], thresholds[1]))


def _candidates(values: Sequence[float]) -> list[float]:
    ordered = sorted(set(round(value, 3) for value in values))
    return [(a + b) / 2 for a, b in pairwise(ordered)]


def best_thresholds(
    values: Sequence[float], gold: Sequence[int], weights: Sequence[float] | None = None
) -> tuple[float, float]:
    """The two cut points that give the highest QWK on these values (likelihood fits the
    weights; the cut points are then chosen for the agreement figure we report)."""
    cuts = _candidates(values)
    if not cuts:
        return (0.0, 1.0)
    # Coarse grid: at most 60 candidate cuts, so the search stays quick.
    step = max(1, len(cuts) // 60)
    cuts = cuts[::step]
    best, chosen = -2.0, (cuts[0], cuts[-1])
    for i, low in enumerate(cuts):
        for high in cuts[i:]:
            levels = [int(v > low) + int(v > high) for v in values]
            agreement = quadratic_weighted_kappa(gold, levels, weights=weights)
            if agreement > best:
                best, chosen = agreement, (low, high)
    return chosen


def fit_scorer(
    examples: Sequence[Example], provenance: Mapping[str, object], *, l2: float = 0.01
) -> Scorer:
    steps = {}
    for step in STEPS:
        model = fit_step(examples, step, l2=l2)
        values = [model.value(example.features) for example in examples]
        gold = [example.gold[step] for example in examples]
        weights = [example.weight for example in examples]
        steps[step] = replace(model, thresholds=best_thresholds(values, gold, weights))
    return Scorer(steps=steps, provenance=provenance)


def cross_validation_fold(key: str, folds: int) -> int:
    """A fixed fold of `folds` for a labelled reply, by a hash of its id (or line)."""
    digest = hashlib.sha256(f"cross-validation:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % folds
