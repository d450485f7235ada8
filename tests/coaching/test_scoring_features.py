"""The features the fitted scoring layer weighs (prompts/critique/features.toml): each describes a
kind of wording, so paraphrases written here must each fire it, in the sentence that says it.

Every reply and customer message here is written for these tests; none is taken from the eval data.
"""

from __future__ import annotations

import pytest

from bot.coaching.critique import CritiqueRequest
from bot.coaching.features import may_quote, weighed_for

PHRASES = {
    "agent promises (I/we will)": [
        "I'll ring the depot first thing.",
        "We're going to send a new card.",
    ],
    "agent reports an action (I/we have done)": [
        "I've cancelled the second booking.",
        "We have already refunded the deposit.",
    ],
    "a day or time window": [
        "The engineer comes on Thursday.",
        "Expect it within 48 hours.",
        "You'll hear back by the end of the week.",
        "Collection is between 8 and 12.",
    ],
    "a remedy named": [
        "A replacement kettle is on its way.",
        "We'll waive the late fee.",
        "I can schedule a technician visit.",
    ],
    "steps the customer can follow": [
        "Open Settings > Privacy > Camera.",
        "Tap the menu and then choose Sign out.",
        "Here's how to reset the router.",
        "This guide walks you through the setup.",
    ],
    "asks for details to help": [
        "What's your booking reference number?",
        "Could you share a screenshot of the error?",
        "Which browser are you on?",
    ],
    "hands over or escalates": [
        "I've passed this on to our refunds team.",
        "A specialist will call you this afternoon.",
    ],
    "points elsewhere": [
        "Please get in touch with your bank about the charge.",
        "Feedback can be submitted through the app.",
        "Head over to our help centre for the details.",
        "You will need to contact the landlord.",
    ],
    "names the impact in the agent's words": [
        "Standing in the rain for an hour is miserable.",
        "Nobody should have to call four times.",
        "That's not how a first week with a new phone should go.",
        "It must have been so stressful.",
    ],
    "stock sympathy formula": [
        "We understand your frustration.",
        "Sorry to hear that.",
        "We apologise for any inconvenience.",
        "We regret the inconvenience this may have caused.",
    ],
    "the customer's situation (your …)": [
        "It spoiled your anniversary dinner.",
        "Your flight home matters.",
    ],
    "owning words": [
        "That one is down to us.",
        "I'd like to put this right.",
        "I'll take ownership of your case.",
    ],
    "thanks or pleasantries": [
        "Thanks for letting us know.",
        "Have a lovely weekend!",
        "Congratulations on the new flat!",
    ],
    "a problem word": [
        "The outage is over.",
        "Your parcel was damaged.",
    ],
    "an explanation of how things work": [
        "Refunds usually take five days.",
        "The offer is only valid for new members.",
    ],
}

CASES = [(name, reply) for name, replies in PHRASES.items() for reply in replies]


def _features(engine, reply: str, customer: str | None = None):
    return engine.read(CritiqueRequest(agent_reply=reply, customer_message=customer)).features


@pytest.mark.parametrize(("name", "reply"), CASES)
def test_each_phrase_feature_fires_on_its_paraphrases(offline_engine, name, reply):
    features = _features(offline_engine, f"Hi there. {reply}")
    assert features.fired.get(f"phrase:{name}") == {1}, sorted(features.names())


def test_phrase_features_stay_silent_on_a_reply_that_says_none_of_that(offline_engine):
    features = _features(offline_engine, "OK.")
    assert not [name for name in features.names() if name.startswith("phrase:")]


CUSTOMER = {
    "praises or thanks": [
        "Kudos to the crew on my flight this morning",
        "Loving the new app, well done",
    ],
    "asks a question": [
        "Is there a way to change my seat",
        "how do I get a receipt?",
    ],
    "reports a problem": [
        "My order still hasn't arrived",
        "I was charged twice for one ticket",
    ],
    "is upset": [
        "This is the worst service I've ever had",
        "Fed up of waiting for a call back!!",
    ],
}


@pytest.mark.parametrize(
    ("name", "message"), [(name, m) for name, messages in CUSTOMER.items() for m in messages]
)
def test_each_customer_feature_reads_the_customers_message(offline_engine, name, message):
    features = _features(offline_engine, "Thanks for getting in touch.", customer=message)
    assert f"customer:{name}" in features.names(), sorted(features.names())


def test_praise_that_complains_is_no_praise(offline_engine):
    # "thanks for nothing" is a complaint: the praise feature gives way to the problem.
    features = _features(
        offline_engine, "We're sorry.", customer="Thanks for nothing, my bag is still lost"
    )
    assert "customer:praises or thanks" not in features.names()
    assert "customer:reports a problem" in features.names()


def test_customer_features_are_context_never_evidence():
    assert not may_quote("customer:reports a problem", "sympathize")
    assert weighed_for("customer:asks a question", "act")
    assert not weighed_for("customer:asks a question", "apologize")


ECHO = "echo:echoes the customer's words"


def test_a_sentence_saying_back_the_customers_problem_echoes_it(offline_engine):
    features = _features(
        offline_engine,
        "Hello. Waiting three hours at the airport for a delayed suitcase is awful.",
        customer="Been waiting at the airport three hours for my suitcase, flight delayed",
    )
    assert features.fired[ECHO] == {1}
    assert may_quote(ECHO, "sympathize")


def test_common_words_alone_are_no_echo(offline_engine):
    features = _features(
        offline_engine,
        "Thanks, we would like to help you with that today.",
        customer="Thanks, could you help me with that today please",
    )
    assert ECHO not in features.names()


def test_saying_again_what_the_customer_quoted_of_the_agent_is_no_echo(offline_engine):
    # A practice customer quotes the agent's last reply back; repeating it listens to no one.
    features = _features(
        offline_engine,
        "I'm looking into it with the workshop.",
        customer='"I\'m looking into it with the workshop"? That means nothing. When? Who?',
    )
    assert ECHO not in features.names()


def test_a_day_in_a_thank_you_is_no_time_window(offline_engine):
    thanks = _features(offline_engine, "Thanks for writing in to us today.")
    promise = _features(offline_engine, "Thanks, I've booked the engineer. They'll call today.")
    assert "phrase:a day or time window" not in thanks.names()
    assert "phrase:a day or time window" in promise.names()


def test_no_customer_message_no_customer_or_echo_features(offline_engine):
    names = _features(offline_engine, "Sorry about the wait on your refund.").names()
    assert not [name for name in names if name.startswith(("customer:", "echo:"))]


def test_every_feature_of_the_file_is_tested_here():
    from bot.coaching.features import customer_features, phrase_features

    assert {feature.name for feature in phrase_features()} == set(PHRASES)
    assert {feature.name for feature in customer_features()} == set(CUSTOMER)


@pytest.mark.parametrize(
    "reply",
    [
        "Sorry, as per our policy we can't refund it. Please contact your bank.",
        "I'm so sorry! I know how stressful that is. I've booked a courier for 9am tomorrow.",
        "Thanks for reaching out! Which browser are you on?",
    ],
)
def test_a_critique_weighs_only_what_it_needs_and_scores_as_a_full_reading(offline_engine, reply):
    # The critique skips phrase features of steps the rules settle; a full reading (as when
    # fitting) must give the same verdicts.
    request = CritiqueRequest(agent_reply=reply, customer_message="Where is my refund?")
    full = offline_engine.read(request)
    critique = offline_engine.critique(request)
    for step in ("apologize", "sympathize", "responsibility", "act"):
        assert offline_engine._step(step, full) == getattr(critique.steps, step), step
