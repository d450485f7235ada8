"""Inflaming wording (METHOD.md §2) and the at-fault customer's way out (seed 002)."""

from __future__ import annotations

import pytest

from bot.coaching.critique import TriggerKind


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("Please calm down, we are doing our best.", TriggerKind.calm_down),
        ("As per our policy, no refunds after 14 days.", TriggerKind.policy_wall),
        ("Unfortunately there is nothing we can do.", TriggerKind.policy_wall),
        ("We cannot change the delivery date.", TriggerKind.refusal),
        ("This isn't something we can help with.", TriggerKind.refusal),
        ("We never got your parcel back, so no refund is possible.", TriggerKind.refusal),
        ("You should have checked the size chart before ordering.", TriggerKind.blame_customer),
        ("As I already said, the store is closed on Sundays.", TriggerKind.repeating),
        ("That's not my department.", TriggerKind.passing_the_buck),
        ("Returns are handled by our logistics department, not us.", TriggerKind.blame_others),
        ("Good things come to those who wait 😉", TriggerKind.sarcasm),
        ("YOU NEED TO READ THE EMAIL we sent.", TriggerKind.shouting),
        ("We replied yesterday!!", TriggerKind.shouting),
        ("I've raised it with our L2 team under INC0012345.", TriggerKind.jargon),
    ],
)
def test_each_kind_of_inflaming_wording_is_flagged(critique, reply, kind):
    triggers = critique(reply).triggers
    assert kind in {trigger.kind for trigger in triggers}
    for trigger in triggers:
        assert trigger.quote in reply
        assert trigger.why and trigger.better


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks so much for your patience! Your parcel is on its way.",
        "We can't change the date online, but I can do it for you right now.",
        "We can't thank you enough for flagging this.",
        "If you can't find the email, let us know and I'll resend it.",
        "Sorry you're unable to log in. Could you DM us your username?",
        "It's not your fault at all, this trips up lots of people.",
    ],
)
def test_friendly_or_alternative_wording_is_not_a_trigger(critique, reply):
    assert critique(reply).triggers == []


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("Policy says that's not covered.", TriggerKind.policy_wall),
        ("Our returns policy states that opened items can't come back.", TriggerKind.policy_wall),
        ("According to our policy, refunds take 14 days.", TriggerKind.policy_wall),
        ("According to the terms, that is not covered.", TriggerKind.policy_wall),
        ("I'm afraid this isn't covered.", TriggerKind.policy_wall),
        ("You must have dropped it in water.", TriggerKind.blame_customer),
        ("You must've left it in the sun.", TriggerKind.blame_customer),
        ("You obviously ignored the instructions.", TriggerKind.blame_customer),
        ("You clearly didn't read the label.", TriggerKind.blame_customer),
        ("Obviously you entered the wrong code.", TriggerKind.blame_customer),
        ("Technically it isn't late yet.", TriggerKind.blame_customer),
        ("Your parcel is not even overdue yet.", TriggerKind.blame_customer),
    ],
)
def test_policy_walls_and_accusations_in_other_words_are_flagged(critique, reply, kind):
    assert kind in {trigger.kind for trigger in critique(reply).triggers}


def test_policy_statement_with_a_timeline_is_a_wall_a_correction_and_no_done_step(critique):
    result = critique(
        "As per our policy orders ship within 14 business days, so technically it isn't late yet."
    )
    kinds = {trigger.kind for trigger in result.triggers}
    assert {TriggerKind.policy_wall, TriggerKind.blame_customer} <= kinds
    assert result.steps.act.score < 2
    assert result.steps.responsibility.score == 0


@pytest.mark.parametrize(
    "reply",
    [
        "I'll check what our policy allows and come back to you by 5pm.",
        "You must have been so worried when it didn't arrive.",
        "You must have had a long day waiting for the engineer.",
        "You clearly explained the problem, thank you.",
        "You've clearly tried everything already, I'm sorry.",
        "If that isn't covered, I'll pay for the repair myself.",
        "Technically you're right, and I'm sorry we missed it.",
        "Our new policy allows returns for 60 days, so I've started yours.",
    ],
)
def test_near_misses_of_walls_and_accusations_are_not_triggers(critique, reply):
    assert critique(reply).triggers == []


def test_way_out_only_matters_when_the_customer_is_at_fault(critique):
    result = critique("DM us your order number.", customer="My parcel is late again")
    assert not result.way_out.customer_at_fault
    assert result.way_out.tip == ""


def test_cornering_an_at_fault_customer_costs_a_tip_and_points(critique):
    cornered = critique(
        "The screen cracked because you dropped it. Damage from drops is not covered under "
        "the warranty.",
        facts="the customer dropped the device",
    )
    assert cornered.way_out.customer_at_fault
    assert not cornered.way_out.offered
    assert "way out" in cornered.way_out.tip


def test_a_face_saving_reply_offers_a_way_out(critique):
    reply = (
        "This happens to the best of us, I did it once myself! All you need to do is hold the "
        "power button for ten seconds and it will reset."
    )
    result = critique(reply, customer="I think I broke it, I pressed every button at once")
    assert result.way_out.customer_at_fault
    assert result.way_out.offered
    assert all(quote in reply for quote in result.way_out.evidence)
    assert result.way_out.tip == ""


def test_the_customer_admitting_fault_marks_them_at_fault(critique):
    result = critique("Let me help.", customer="My bad, I entered the wrong address at checkout")
    assert result.way_out.customer_at_fault


def test_an_agent_blaming_the_customer_is_not_evidence_that_they_were_at_fault(critique):
    result = critique(
        "You should have read the terms.",
        customer="My order never arrived and I was charged twice!!",
    )
    assert TriggerKind.blame_customer in {trigger.kind for trigger in result.triggers}
    assert not result.way_out.customer_at_fault
    assert result.way_out.tip == ""
    assert "no way out" not in result.summary


def test_blame_of_a_customer_the_facts_show_at_fault_leaves_no_way_out(critique):
    result = critique("You should have read the manual.", customer="I forgot to charge it")
    assert result.way_out.customer_at_fault
    assert not result.way_out.offered
