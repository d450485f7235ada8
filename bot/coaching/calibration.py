"""A team's calibration of the scoring layer, fitted on its own labelled replies.

Teams disagree with any default on where "partial" ends and "done" begins. A calibration keeps
the shipped weights (which say what in a reply counts) and moves, per step, the two cut points
that turn the weighted sum into 0, 1 or 2, chosen for the best agreement with the team's labels.
Steps the team labelled too few replies of at some level keep the shipped cut points.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.coaching.critique import STEPS
from bot.coaching.fitting import Example, best_thresholds
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.scoring import Scorer
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.models import ScoringCalibration

# Labelled replies needed at each level (0, 1, 2) of a step, in the share the cut points are
# fitted on, before that step is calibrated: fewer, and two cut points would follow the noise.
MIN_LABELS_PER_LEVEL = 8
# The share of labels kept out of the fit, to report agreement before and after on.
HELD_OUT_PERCENT = 25


class TooFewLabels(ValueError):
    """No step has enough labels at every level to be calibrated."""


@dataclass(frozen=True)
class Calibration:
    thresholds: Mapping[str, tuple[float, float]]  # per calibrated step
    provenance: Mapping[str, Any]

    def to_data(self) -> dict[str, Any]:
        return {
            "provenance": dict(self.provenance),
            "thresholds": {
                step: [round(cut, 4) for cut in cuts] for step, cuts in self.thresholds.items()
            },
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Calibration:
        thresholds = {
            step: (float(low), float(high))
            for step, (low, high) in data["thresholds"].items()
            if step in STEPS
        }
        return cls(thresholds, data.get("provenance", {}))

    @classmethod
    def read(cls, path: Path) -> Calibration:
        return cls.from_data(json.loads(path.read_text(encoding="utf-8")))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_data(), indent=1) + "\n", encoding="utf-8")

    def applied_to(self, scorer: Scorer) -> Scorer:
        steps = dict(scorer.steps)
        for step, cuts in self.thresholds.items():
            steps[step] = replace(steps[step], thresholds=cuts)
        return replace(scorer, steps=steps)


def calibrated(
    engine: OfflineCritiqueEngine, calibration: Calibration | None
) -> OfflineCritiqueEngine:
    """The offline engine scoring with the team's cut points (`engines.build_critique_engine`
    gives an LLM engine a calibrated offline engine to check against and fall back to)."""
    if calibration is None:
        return engine
    return OfflineCritiqueEngine(engine.rubric, calibration.applied_to(engine.scorer))


def is_held_out(key: str) -> bool:
    """A fixed share of the labels, by a hash of each line's id (or line number)."""
    digest = hashlib.sha256(f"calibration:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < HELD_OUT_PERCENT


def label_counts(examples: Iterable[Example]) -> dict[str, Counter]:
    counts = {step: Counter() for step in STEPS}
    for example in examples:
        for step in STEPS:
            counts[step][example.gold[step]] += 1
    return counts


def calibratable_steps(examples: Sequence[Example]) -> list[str]:
    counts = label_counts(examples)
    return [
        step
        for step in STEPS
        if all(counts[step][level] >= MIN_LABELS_PER_LEVEL for level in (0, 1, 2))
    ]


def too_few_message(examples: Sequence[Example]) -> str:
    counts = label_counts(examples)
    have = "; ".join(
        f"{step} " + ", ".join(f"{counts[step][level]} at {level}" for level in (0, 1, 2))
        for step in STEPS
    )
    return (
        f"too few labels to calibrate: a step needs at least {MIN_LABELS_PER_LEVEL} labelled "
        f"replies at each level 0, 1 and 2 in the {100 - HELD_OUT_PERCENT} % kept for fitting "
        f"(about {round(MIN_LABELS_PER_LEVEL * 100 / (100 - HELD_OUT_PERCENT))} per level in "
        f"all). You have: {have}."
    )


def fit_calibration(
    scorer: Scorer, examples: Sequence[Example], provenance: Mapping[str, Any]
) -> Calibration:
    """Cut points per step with the best agreement on `examples`; raises TooFewLabels."""
    steps = calibratable_steps(examples)
    if not steps:
        raise TooFewLabels(too_few_message(examples))
    thresholds = {}
    for step in steps:
        model = scorer.steps[step]
        values = [model.value(example.features) for example in examples]
        thresholds[step] = best_thresholds(values, [example.gold[step] for example in examples])
    return Calibration(thresholds, provenance)


def workspace_calibration(db: Database, team_id: str) -> Calibration | None:
    """The workspace's calibration, if its team has fitted one."""
    with db.session() as session:
        row = session.get(ScoringCalibration, team_id)
        return None if row is None else Calibration.from_data(row.calibration)


def save_workspace_calibration(
    db: Database, team_id: str, calibration: Calibration, labels: int
) -> None:
    """Store (or replace) the workspace's calibration; the bot scores with it from then on."""
    with db.session() as session:
        row = session.get(ScoringCalibration, team_id)
        if row is None:
            row = ScoringCalibration(team_id=team_id)
            session.add(row)
        row.calibration, row.labels, row.created_at = calibration.to_data(), labels, utcnow()
