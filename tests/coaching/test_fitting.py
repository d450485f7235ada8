"""Fitting the scoring layer: labels that count more pull the fit their way."""

from __future__ import annotations

from bot.coaching.fitting import Example, cross_validation_fold, fit_step

GOLD = {"apologize": 0, "sympathize": 0, "responsibility": 0, "act": 0}


def _examples(weight_of_twos: float) -> list[Example]:
    # The same reply labelled 1 by one reviewer and 2 by another: the weight decides.
    features = frozenset({"phrase:agent promises (I/we will)"})
    return [
        *[Example(frozenset(), GOLD) for _ in range(10)],
        Example(features, {**GOLD, "act": 1}),
        Example(features, {**GOLD, "act": 2}, weight_of_twos),
    ]


def test_a_label_that_counts_more_pulls_the_fitted_weight_its_way():
    feature = "phrase:agent promises (I/we will)"
    light = fit_step(_examples(0.2), "act", l2=0.01)
    heavy = fit_step(_examples(5.0), "act", l2=0.01)
    assert heavy.weights[feature] > light.weights[feature] > 0


def test_cross_validation_folds_are_fixed_and_cover_every_fold():
    keys = [f"reply-{n}" for n in range(200)]
    folds = [cross_validation_fold(key, 5) for key in keys]
    assert folds == [cross_validation_fold(key, 5) for key in keys]
    assert set(folds) == set(range(5))
