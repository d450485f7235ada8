"""The kinds of replies the engine used to miss on replies nobody tuned for (issues 11 and 13).

Every reply here is written for these tests, in wordings that appear in none of the eval data.
"""

from __future__ import annotations

import pytest

DEFLECTIONS = [
    "Thanks for the message! Feel free to get in touch with our bookings team on 0800 123 456.",
    "Feedback can be left on our website, we read every comment.",
    "Watch this space for news on the new timetable!",
    "You can reach out to our help desk at help.example.com for anything like this.",
]


@pytest.mark.parametrize("reply", DEFLECTIONS)
def test_a_polite_deflection_owns_nothing(critique, reply):
    assert critique(reply, customer="My order is a week late!").steps.responsibility.score == 0


FIXES = [
    "Sorry about that! Go to Settings > Notifications > Sound and switch Quiet hours off, then "
    "restart the app.",
    "Here's how to reset it: hold the power button for ten seconds, then plug the charger back in.",
    "I can book an engineer visit for Thursday between 8am and 1pm.",
    "I've booked a technician for Monday at 9am; you'll get a text when they set off.",
]


@pytest.mark.parametrize("reply", FIXES)
def test_a_specific_fix_or_dated_offer_is_a_concrete_step(critique, reply):
    assert critique(reply).steps.act.score == 2


WALLS = [
    "Parcels are dispatched on the dates shown at checkout, no exceptions.",
    "Gift wrapping isn't something we're offering at this time.",
    "You'll need to reach your local service centre about that.",
    "As explained in our earlier message, the voucher has expired.",
    "Please contact the manufacturer, they handle warranty claims.",
    "Repairs are handled by our partner workshop.",
    "Good things come to people who wait.",
    "That's quite the accusation.",
]


@pytest.mark.parametrize("reply", WALLS)
def test_walls_and_buck_passing_without_the_word_policy_are_triggers(critique, reply):
    assert critique(reply).triggers, reply


NOT_TRIGGERS = [
    "Congratulations on the new house!! Enjoy every minute.",
    "Are you still unable to log in after the update? Which browser are you using?",
    "We can't wait to see you on board!",
    "It's not a hardware issue: it's a bug on our side, and I've asked the app team to fix it.",
    "Per our policy we'll ship a replacement within 14 days.",
]


@pytest.mark.parametrize("reply", NOT_TRIGGERS)
def test_congratulations_and_troubleshooting_questions_are_not_triggers(critique, reply):
    assert not critique(reply).triggers, critique(reply).triggers


def test_sympathy_in_the_agents_own_words_is_full_sympathy(critique):
    reply = (
        "Missing your sister's wedding because our train broke down is awful, and I'm sorry. "
        "I've refunded both tickets."
    )
    assert critique(reply).steps.sympathize.score == 2


def test_a_stock_formula_is_only_partial_sympathy(critique):
    reply = "We understand your frustration. Please DM us your order number."
    assert critique(reply).steps.sympathize.score == 1


@pytest.mark.parametrize(
    "reply",
    [
        "> I want my money back and I'm sorry I ever ordered\nDM us your order number please.",
        "&gt; so sorry, this is awful\nDM us your order number please.",
    ],
)
def test_a_slack_quote_line_is_not_the_agents_voice(critique, reply):
    result = critique(reply)
    assert result.steps.apologize.score == 0
    assert result.steps.sympathize.score == 0


def test_a_quoted_customer_phrase_is_not_the_agents_voice(critique):
    customer = "This is unacceptable, as per your policy you owe me a refund!"
    reply = 'You wrote "as per your policy you owe me a refund". DM us your order number.'
    result = critique(reply, customer=customer)
    assert not result.triggers


def test_a_wall_sentence_is_not_evidence_for_acting(critique):
    reply = (
        "As per our policy orders ship within 14 business days, so technically it isn't late yet."
    )
    result = critique(reply)
    assert result.triggers
    assert result.steps.act.score == 0
    assert all("policy" not in quote for quote in result.steps.act.evidence)


def test_looking_into_it_alone_earns_little(critique):
    assert critique("We're looking into it.").overall < 25


def test_repetition_and_filler_earn_nothing_more_than_saying_it_once(critique):
    once = critique("Thanks for your patience.")
    repeated = critique(("Thanks for your patience. " * 400).strip())
    assert repeated.overall <= once.overall
    assert repeated.scores() == once.scores()


def test_a_wall_sentence_is_not_quoted_as_the_evidence_of_the_step_after_it(critique):
    result = critique("Works fine on our end. Clear your cache.")
    assert result.steps.act.evidence == ["Clear your cache."]


def test_slack_html_escapes_read_as_the_characters_they_stand_for(critique):
    # Slack sends "&gt;" for ">": a settings path is still a path, and the quote is verbatim.
    reply = "Sorry about that! Go to Settings &gt; Sound &gt; Quiet hours and switch it off."
    result = critique(reply)
    assert result.steps.act.score == 2
    assert all(quote in reply for quote in result.steps.act.evidence)
