"""The agreement metrics of `asap-coach eval`."""

from __future__ import annotations

import pytest

from bot.coaching.evaluation import (
    confusion_matrix,
    f1_score,
    quadratic_weighted_kappa,
    step_agreement,
)


def test_perfect_agreement_has_kappa_one_and_f1_one():
    gold = [0, 1, 2, 2, 1, 0]
    assert quadratic_weighted_kappa(gold, gold) == pytest.approx(1.0)
    assert f1_score([True, False], [True, False]) == 1.0


def test_kappa_credits_near_misses_more_than_far_misses():
    gold = [0, 1, 2, 0, 1, 2]
    near = [1, 1, 2, 0, 1, 1]
    far = [2, 1, 2, 0, 1, 0]
    assert quadratic_weighted_kappa(gold, near) > quadratic_weighted_kappa(gold, far)


def test_kappa_matches_a_hand_computed_value():
    # Weights (i-j)²/4. Observed disagreement: one 2→1 miss = 0.25. Expected from the margins
    # (gold 0,2; predicted 0,1; each cell 1·1/2): 0.5·0.25 + 0.5·1 + 0.5·0.25 = 0.75.
    assert quadratic_weighted_kappa([0, 2], [0, 1]) == pytest.approx(1 - 0.25 / 0.75)


def test_step_agreement_reports_done_and_present_f1_and_confusion():
    agreement = step_agreement(gold=[0, 1, 2, 2], predicted=[0, 2, 2, 1])
    assert agreement.accuracy == 0.5
    assert agreement.f1_done == pytest.approx(0.5)
    assert agreement.f1_present == pytest.approx(1.0)
    assert agreement.confusion == confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1])
    assert agreement.confusion == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]


def test_a_weighted_item_counts_as_that_many_copies():
    gold, predicted = [0, 1, 2, 2], [0, 2, 2, 1]
    copies = quadratic_weighted_kappa([0, 1, 1, 2, 2], [0, 2, 2, 2, 1])
    assert quadratic_weighted_kappa(gold, predicted, weights=[1, 2, 1, 1]) == pytest.approx(copies)
