"""Agreement between an engine's critiques and gold labels: pure functions, no I/O.

Quadratic weighted kappa is the headline figure per step (it credits near misses, as the
reviewers' own agreement was measured); F1 is given for "done" (2 vs below) and "present" (at
least 1 vs 0), and for triggers (any vs none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from bot.coaching.critique import STEPS, Critique

LEVELS = (0, 1, 2)
GOLD_FIELDS = (*STEPS, "trigger")


def confusion_matrix(
    gold: Sequence[int],
    predicted: Sequence[int],
    levels=LEVELS,
    weights: Sequence[float] | None = None,
) -> list[list[float]]:
    """Rows: gold level; columns: predicted level. `weights`: how much each item counts (a
    fit may count a label that three reviewers agreed on more than one reviewer's)."""
    index = {level: i for i, level in enumerate(levels)}
    matrix = [[0] * len(levels) for _ in levels]
    for n, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        matrix[index[g]][index[p]] += 1 if weights is None else weights[n]
    return matrix


def quadratic_weighted_kappa(
    gold: Sequence[int],
    predicted: Sequence[int],
    levels=LEVELS,
    weights: Sequence[float] | None = None,
) -> float:
    observed = confusion_matrix(gold, predicted, levels, weights)
    size, total = len(levels), sum(map(sum, observed))
    if total == 0:
        return 0.0
    gold_totals = [sum(row) for row in observed]
    predicted_totals = [sum(observed[i][j] for i in range(size)) for j in range(size)]
    disagreement = expected = 0.0
    for i in range(size):
        for j in range(size):
            weight = (i - j) ** 2 / (size - 1) ** 2
            disagreement += weight * observed[i][j]
            expected += weight * gold_totals[i] * predicted_totals[j] / total
    if expected == 0:  # both sides used one level only: kappa is undefined, agreement is total
        return 1.0 if disagreement == 0 else 0.0
    return 1.0 - disagreement / expected


def f1_score(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    true_positive = sum(g and p for g, p in zip(gold, predicted, strict=True))
    claimed, actual = sum(predicted), sum(gold)
    if claimed + actual == 0:
        return 1.0
    return 2 * true_positive / (claimed + actual)


class StepAgreement(BaseModel):
    accuracy: float
    qwk: float
    f1_done: float
    f1_present: float
    confusion: list[list[int]]  # rows gold 0/1/2, columns predicted 0/1/2


class TriggerAgreement(BaseModel):
    f1: float
    precision: float
    recall: float
    confusion: list[list[int]]  # rows gold 0/1, columns predicted 0/1


class TimedItem(BaseModel):
    line: int
    id: str | None = None
    seconds: float


class EvalReport(BaseModel):
    items: int
    errors: int
    steps: dict[str, StepAgreement]
    trigger: TriggerAgreement
    slowest: list[TimedItem]


def step_agreement(gold: Sequence[int], predicted: Sequence[int]) -> StepAgreement:
    return StepAgreement(
        accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1),
        qwk=quadratic_weighted_kappa(gold, predicted),
        f1_done=f1_score([g == 2 for g in gold], [p == 2 for p in predicted]),
        f1_present=f1_score([g >= 1 for g in gold], [p >= 1 for p in predicted]),
        confusion=confusion_matrix(gold, predicted),
    )


def trigger_agreement(gold: Sequence[int], predicted: Sequence[int]) -> TriggerAgreement:
    hits = sum(g and p for g, p in zip(gold, predicted, strict=True))
    return TriggerAgreement(
        f1=f1_score([g == 1 for g in gold], [p == 1 for p in predicted]),
        precision=hits / sum(predicted) if sum(predicted) else 0.0,
        recall=hits / sum(gold) if sum(gold) else 0.0,
        confusion=confusion_matrix(gold, predicted, levels=(0, 1)),
    )


def predicted_labels(critique: Critique) -> dict[str, int]:
    return {**critique.scores(), "trigger": int(bool(critique.triggers))}


@dataclass(frozen=True)
class JudgedItem:
    line: int
    id: str | None
    gold: dict[str, int]
    predicted: dict[str, int]
    seconds: float
    written: bool = False  # written to cover every level, not a real brand reply


def evaluate(judged: Sequence[JudgedItem], *, errors: int = 0, slowest: int = 5) -> EvalReport:
    def column(side: str, field: str) -> list[int]:
        return [getattr(item, side)[field] for item in judged]

    return EvalReport(
        items=len(judged),
        errors=errors,
        steps={
            step: step_agreement(column("gold", step), column("predicted", step)) for step in STEPS
        },
        trigger=trigger_agreement(column("gold", "trigger"), column("predicted", "trigger")),
        slowest=[
            TimedItem(line=item.line, id=item.id, seconds=item.seconds)
            for item in sorted(judged, key=lambda item: item.seconds, reverse=True)[:slowest]
        ],
    )
