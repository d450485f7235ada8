"""The suggested rewrite keeps the agent's facts, adds what was missing, and promises nothing
the agent did not; the summary is one line; overall follows the steps and triggers."""

from __future__ import annotations

import re


def test_rewrite_adds_missing_steps_with_placeholders_not_promises(critique):
    reply = "Your order 4471 left our warehouse on Monday."
    rewrite = critique(reply).rewrite
    assert reply in rewrite  # the agent's facts stay, word for word
    assert "sorry" in rewrite.lower()
    assert "[when?]" in rewrite
    for promise in ("refund", "replace", "voucher", "discount", "compensat", "credit"):
        assert promise not in rewrite.lower()


def test_rewrite_drops_inflaming_sentences_and_softens_shouting(critique):
    reply = "Calm down please. Your booking is confirmed!! I HAVE ALREADY TOLD YOU THIS."
    rewrite = critique(reply).rewrite
    assert "calm down" not in rewrite.lower()
    assert "Your booking is confirmed!" in rewrite
    assert "!!" not in rewrite
    assert not re.search(r"\b[A-Z]{4,} [A-Z]{4,}\b", rewrite)


def test_rewrite_keeps_the_leading_handle(critique):
    assert critique("@maria_p DM us.").rewrite.startswith("@maria_p ")


def test_a_complete_reply_is_left_as_it_is(critique):
    reply = (
        "I'm so sorry, I know how stressful a cancelled flight is. That's on us: I've rebooked "
        "you on the 18:05 and I'll text you the new boarding pass by 4pm today."
    )
    assert critique(reply).rewrite == reply


def test_summary_is_one_line_and_overall_rewards_steps_and_penalises_triggers(critique):
    good = critique("So sorry! I've refunded the fee and it will show within 3 days.")
    bad = critique("So sorry! As per our policy, we cannot refund the fee.")
    assert "\n" not in good.summary and "\n" not in bad.summary
    assert good.overall > bad.overall
    assert "policy wall" in bad.summary
