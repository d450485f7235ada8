"""PII redaction for the LLM engine, and the agreement metrics of `asap-coach eval`."""

from __future__ import annotations

import pytest

from bot.coaching.evaluation import (
    confusion_matrix,
    f1_score,
    quadratic_weighted_kappa,
    step_agreement,
)
from bot.coaching.privacy import Redactor, luhn_valid


def test_emails_phones_and_cards_are_redacted_and_restored():
    text = (
        "Email ana.lopez+orders@example.co.uk or call +44 20 7946 0958; "
        "card 4111 1111 1111 1111 was charged twice."
    )
    redactor = Redactor()
    redacted = redactor.redact(text)
    for secret in ("ana.lopez", "7946", "4111 1111"):
        assert secret not in redacted
    assert "[EMAIL_1]" in redacted and "[PHONE_1]" in redacted and "[CARD_1]" in redacted
    assert redactor.restore(redacted) == text


def test_the_same_value_gets_the_same_placeholder_across_texts():
    redactor = Redactor()
    first = redactor.redact("write to jo@example.com")
    second = redactor.redact("jo@example.com, as I said")
    assert first.endswith("[EMAIL_1]") and second.startswith("[EMAIL_1]")


def test_only_luhn_valid_card_numbers_count_as_cards():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert "[CARD_" not in Redactor().redact("order 4111 1111 1111 1112 is late")


def test_short_numbers_times_and_ranges_are_left_alone():
    text = "Open 7:00 AM - 1:00 AM, refunds in 3-5 days, order #4471."
    assert Redactor().redact(text) == text


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
