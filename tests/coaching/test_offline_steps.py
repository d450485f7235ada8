"""The offline engine scores the four ASAP steps as the guidelines draw the 0/1/2 lines.

All replies here are written for these tests.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("I'm so sorry your parcel went to the wrong address.", 2),
        ("We apologise for the mix-up with your booking.", 2),
        ("we apologize for the trouble!!", 2),
        ("sry about that, the app should be back now", 2),
        ("Soooo sorry, that should never happen.", 2),
        ("Appologies for the wait on your refund.", 2),
        ("Please accept our apologies for the wait.", 2),
        ("Sorry if you feel we let you down.", 1),
        ("Sorry to hear you're unhappy with the outcome.", 1),
        ("Sorry for the slow reply! What's your order number?", 1),
        ("Oops, that's not right. What's your order number?", 1),
        ("Sorry, but our policy is clear on returns.", 1),
        ("Thanks for reaching out! What's your order number?", 0),
        ("I'm not sorry, the terms were clear.", 0),
    ],
)
def test_apology_levels(critique, reply, expected):
    assert critique(reply).steps.apologize.score == expected


def test_cant_apologise_enough_is_an_apology_not_a_refusal(critique):
    result = critique("We can't apologise enough for the delay to your order.")
    assert result.steps.apologize.score == 2
    assert not result.triggers


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("I know how frustrating it is to wait all day for an engineer who never turns up.", 2),
        ("Missing your train because our app froze is awful.", 2),
        ("That's not the experience we want you to have with your new laptop.", 2),
        ("I'd be furious too if my card was charged twice.", 2),
        ("Your frustration is completely understandable.", 2),
        ("I understand. Could you DM us your account number?", 1),
        ("Sorry to hear that. Which store was it?", 1),
        ("We hear you. Please send us your order number.", 1),
        ("Please restart the router and try again.", 0),
        ("I know how frustrating it is, but it's only a small delay.", 0),
        ("Could you help us understand what happened?", 0),
    ],
)
def test_sympathy_levels(critique, reply, expected):
    assert critique(reply).steps.sympathize.score == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("That's on us, we got your address wrong.", 2),
        ("Leave this with me, I'll make it right.", 2),
        ("I've escalated this to our billing team and I'll come back to you by Friday.", 2),
        ("We'd like to look into this. Could you DM us your order number?", 1),
        ("DM us your order number and we'll take a look.", 1),
        ("Don't worry, we'll take care of it!", 2),
        ("Deliveries are handled by the courier, please contact them.", 0),
        ("As per our policy, refunds take 30 days.", 0),
        ("Thanks for the lovely feedback, have a great weekend!", 0),
    ],
)
def test_responsibility_levels(critique, reply, expected):
    assert critique(reply).steps.responsibility.score == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("I've issued a refund; it will show on your card in 3-5 days.", 2),
        ("A new part ships today and I'll email you the tracking number tonight.", 2),
        ("Go to Settings > Privacy > Location and switch it off.", 2),
        ("I'll book you an engineer visit and confirm the slot by 5pm tomorrow.", 2),
        ("DM us and we'll look into it.", 1),
        ("Please try restarting the app.", 1),
        ("Let us know if it keeps happening.", 1),
        ("We're sorry for the delay.", 0),
    ],
)
def test_act_levels(critique, reply, expected):
    assert critique(reply).steps.act.score == expected


@pytest.mark.parametrize(
    "reply",
    [
        "As per our policy orders ship within 14 business days, so technically it isn't late yet.",
        "Our policy says parcels arrive within 10 working days.",
        "According to our terms, refunds are processed and will show within 5 days.",
        "Orders usually ship within 3 days of payment.",
        "Items normally arrive in 2-4 business days.",
        "Due to high demand, deliveries will arrive within 3 weeks.",
        "Orders ship within 14 business days.",
    ],
)
def test_a_policy_or_routine_timeline_is_not_a_step_the_company_takes(critique, reply):
    assert critique(reply).steps.act.score < 2


@pytest.mark.parametrize(
    "reply",
    [
        "Orders usually ship within 3 days, but I've upgraded yours to next-day delivery.",
        "Parcels normally arrive in a week, and yours will go out by courier tomorrow.",
        "Per our policy we'll ship a replacement within 14 days.",
        "I'll check what our policy allows and come back to you by 5pm.",
        "Your order ships tomorrow morning.",
    ],
)
def test_a_real_step_beside_a_policy_or_routine_still_counts(critique, reply):
    assert critique(reply).steps.act.score == 2


@pytest.mark.parametrize(
    "reply",
    [
        "Policy says that's not covered.",
        "Technically, it was delivered.",
        "Orders usually arrive on time.",
    ],
)
def test_a_policy_or_routine_statement_alone_earns_no_step(critique, reply):
    assert critique(reply).steps.act.score == 0


def test_a_policy_or_routine_statement_never_raises_a_step(critique):
    # Only lowers: the vague step inside it stays the partial it was.
    assert (
        critique(
            "Parcels usually arrive on time, so please DM us the tracking number."
        ).steps.act.score
        == 1
    )


def test_a_full_asap_reply_scores_two_everywhere(critique):
    reply = (
        "I'm so sorry your order hasn't arrived. I know how frustrating it is to wait in all day "
        "for nothing. That's our mistake, not yours: I've booked a redelivery for tomorrow "
        "morning and I'll message you by 9am with the driver's time slot."
    )
    result = critique(reply, customer="Waited in ALL DAY and my parcel never came!!")
    assert result.scores() == {"apologize": 2, "sympathize": 2, "responsibility": 2, "act": 2}
    assert not result.triggers
    assert result.overall == 100


def test_casing_contractions_handles_links_and_emoji_do_not_matter(critique):
    plain = critique("I am sorry. Please DM us and we will look into it.")
    noisy = critique(
        "@dana_k I\u2019M SORRY 🙏 pls DM us https://example.com/dm and we'll look into it 🙏 ^JT"
    )
    assert noisy.scores() == plain.scores()


def test_every_step_above_zero_quotes_the_reply_verbatim(critique):
    reply = (
        "@sam Hi Sam, so sorry 🙁 that\u2019s on us. I understand how annoying a frozen screen is! "
        "Go to Settings > Display and we'll follow up by Monday: https://example.com/help"
    )
    result = critique(reply)
    for name, verdict in result.steps.items():
        assert verdict.score > 0, name
        assert verdict.evidence, name
        assert all(quote in reply for quote in verdict.evidence), name


@pytest.mark.parametrize(
    "reply",
    ["@user", "?", "!!", "\U0001f600", "https://example.com/x", "\n.\n", "> x", "\u0130STANBUL"],
)
def test_odd_replies_get_a_critique_whose_evidence_is_verbatim(critique, reply):
    result = critique(reply)
    for _, verdict in result.steps.items():
        assert all(quote in reply for quote in verdict.evidence)
    assert result.rewrite


def test_tips_only_where_a_step_falls_short(critique):
    result = critique("Sorry about that! DM us.")
    assert result.steps.apologize.tip == ""
    assert result.steps.act.tip  # 1 → a tip on what would make it a 2
    assert result.steps.sympathize.tip
