"""The offline engine stays at or above the agreement it reached on the dev splits.

Reads the labelled data from ../shared/eval (or $ASAP_SHARED_DIR/eval); never copies it here.
Floors are the figures reached when the rules were last tuned (BENCHMARKS.md), rounded down.
"""

from __future__ import annotations

import pytest

from bot.coaching.batch import evaluate_lines

FLOORS = {
    "dev.jsonl": {
        "apologize": 0.98,
        "sympathize": 0.89,
        "responsibility": 0.82,
        "act": 0.85,
        "trigger_f1": 0.82,
    },
    "contrast-dev.jsonl": {
        "apologize": 0.94,
        "sympathize": 0.86,
        "responsibility": 0.96,
        "act": 0.99,
        "trigger_f1": 0.99,
    },
}


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_offline_engine_keeps_its_agreement_with_gold(split, eval_file, offline_engine):
    with eval_file(split).open(encoding="utf-8") as lines:
        run = evaluate_lines(offline_engine, lines)
    assert run.errors == []
    floors = FLOORS[split]
    reached = {step: agreement.qwk for step, agreement in run.report.steps.items()}
    reached["trigger_f1"] = run.report.trigger.f1
    below = {
        name: round(reached[name], 3) for name, floor in floors.items() if reached[name] < floor
    }
    assert not below, f"{split}: below the floors {floors}: {below}"
