"""Paraphrases of the rubric's wordings: each cue and trigger pattern describes a kind of wording,
so a sentence that says the same thing in other words must be recognised too (issue 11: a pattern
earns its place by firing on at least two independent texts).

Every reply here is written for these tests; none is taken from the eval data.
"""

from __future__ import annotations

import pytest

from bot.coaching.critique import CritiqueRequest, TriggerKind

# {(step, cue): replies the cue must find}. A cue's level is what the rules give the step; below
# "done" the fitted layer then weighs it with everything else in the reply.
CUES = {
    ("act", "open door, no step"): [
        "Happy travels, and message us any time.",
        "If you need anything else, just let us know!",
        "Don't hesitate to let us know.",
    ],
    ("act", "exact fix"): [
        "To turn it off, tap Settings and then Sound.",
    ],
    ("act", "concrete step taken"): [
        "We've forwarded your details to the claims desk.",
        "I've replied to your email with the new code.",
    ],
    ("apologize", "non-apology for feelings"): [
        "We apologise for your frustration with the app.",
        "We regret to inform you that the sofa is out of stock.",
    ],
    ("apologize", "apology"): [
        "My bad, I sent the wrong link.",
    ],
    ("responsibility", "owns the problem"): [
        "We got it wrong, plain and simple.",
        "We take this very seriously.",
        "Let's get you sorted today.",
        "This should not have happened.",
        "It was a genuine mistake and we'll refund the fee.",
        "I want it fixed as much as you do.",
    ],
    ("responsibility", "engages with the problem"): [
        "Your complaint has been logged with the station team.",
        "These troubleshooting steps should fix the sound.",
        "Try these tips for a faster connection.",
        "You can find out how here: example.com/reset",
    ],
    ("responsibility", "refers elsewhere"): [
        "Find out more on our travel page.",
        "We don't have an update on that yet.",
        "Please contact us at example.com/help for this.",
        "You can reach our billing team here: example.com/billing",
        "Please submit your idea here: example.com/ideas",
        "Post it on our community forum.",
        "Check our website for opening hours.",
    ],
    ("sympathize", "validates a named feeling"): [
        "A cold shower is the last thing anyone needs after a night shift.",
        "You've waited more than anyone should for this part.",
        "You shouldn't have had to chase us twice.",
        "Your weekend ruined by a leak, that's miserable.",
        "The cancellation left you stranded at the station.",
        "Three weeks is far too long to be without heating.",
        "You've been more patient than we had any right to ask.",
        "Being cut off without any warning isn't on.",
        "A cold pizza is not what you paid for.",
        "Losing a whole evening to a broken app is a pain.",
        "Paying twice for one ticket is rubbish.",
    ],
    ("sympathize", "generic acknowledgement"): [
        "We don't like hearing that.",
        "We never want you to feel that way.",
        "We appreciate your concern.",
        "You're far from the first one to ask about this.",
        "That doesn't look right at all.",
        "That's really troubling.",
        "We hate to see this.",
        "That definitely shouldn't be happening.",
        "I can see why that would be handy.",
    ],
    ("sympathize", "understand as a request"): [
        "Thanks for your understanding.",
    ],
}


@pytest.mark.parametrize(
    ("reply", "step", "cue"),
    [(reply, step, cue) for (step, cue), replies in CUES.items() for reply in replies],
)
def test_each_cue_finds_a_paraphrase_of_its_wording(offline_engine, reply, step, cue):
    features = offline_engine.read(CritiqueRequest(agent_reply=reply)).features
    assert f"cue:{step}:{cue}" in features.names(), sorted(features.names())


TRIGGERS = [
    # policy used as a wall, with or without the word
    ("As per the law, we have to keep the deposit.", TriggerKind.policy_wall),
    ("Refunds are described in our booking terms.", TriggerKind.policy_wall),
    ("Fares are set by our pricing guidelines.", TriggerKind.policy_wall),
    ("Restrictions apply.", TriggerKind.policy_wall),
    ("Per safety protocol, passengers must stay seated.", TriggerKind.policy_wall),
    ("Ten working days is within our normal range.", TriggerKind.policy_wall),
    ("Your account must meet the eligibility criteria first.", TriggerKind.policy_wall),
    ("The laptop falls outside the warranty period.", TriggerKind.policy_wall),
    ("Your boiler is now out of warranty.", TriggerKind.policy_wall),
    ("Sadly there's nothing more we could offer here.", TriggerKind.policy_wall),
    ("We have to be fair to all of our guests.", TriggerKind.policy_wall),
    ("Only the person who booked can cancel the table.", TriggerKind.policy_wall),
    ("Spare parts aren't covered under the plan.", TriggerKind.policy_wall),
    # a bare refusal
    ("I'm afraid not.", TriggerKind.refusal),
    # blaming or correcting the customer, a lecture
    ("It loads fine on our side.", TriggerKind.blame_customer),
    ("That's a design choice and not a fault.", TriggerKind.blame_customer),
    ("Shouting at our staff won't help.", TriggerKind.blame_customer),
    ("This happened because you didn't update the app.", TriggerKind.blame_customer),
    ("Please read the instructions before charging it.", TriggerKind.blame_customer),
    ("Next time, please check the size guide.", TriggerKind.blame_customer),
    ("Please stop opening duplicate tickets.", TriggerKind.blame_customer),
    ("You should have updated the address on your account.", TriggerKind.blame_customer),
    # as I already said
    ("As advised before, the fee stands.", TriggerKind.repeating),
    ("As informed to you, the order was cancelled.", TriggerKind.repeating),
    ("As stated on the product page, the lamp has no bulb.", TriggerKind.repeating),
    # excuses and passing the buck
    ("Our drivers are only human.", TriggerKind.blame_others),
    ("These things happen on busy nights.", TriggerKind.blame_others),
    ("Parking is the responsibility of the car park operator.", TriggerKind.passing_the_buck),
    ("That's a question for our billing team.", TriggerKind.passing_the_buck),
    ("Please contact the hotel directly.", TriggerKind.passing_the_buck),
    (
        "Your mailbox is registered and managed by your internet provider.",
        TriggerKind.passing_the_buck,
    ),
    ("Please reach out the seller for a return.", TriggerKind.passing_the_buck),
    # sarcasm and dismissal
    ("That's a little dramatic, isn't it?", TriggerKind.sarcasm),
    ("Well, that's one way to start a Monday.", TriggerKind.sarcasm),
    ("What exactly do you expect us to do?", TriggerKind.sarcasm),
    ("If it's a real problem, you know where to find us.", TriggerKind.sarcasm),
    # jargon the customer cannot know
    ("It has been passed to T2 for review.", TriggerKind.jargon),
    ("Your ticket is status P1 in queue 7C.", TriggerKind.jargon),
    ("Tracked under CHG-88 for now.", TriggerKind.jargon),
]


@pytest.mark.parametrize(("reply", "kind"), TRIGGERS)
def test_each_trigger_finds_a_paraphrase_of_its_wording(critique, reply, kind):
    assert kind in {trigger.kind for trigger in critique(reply).triggers}, reply


NOT_TRIGGERS = [
    "You should have the option under your profile picture.",
    "A hotel is a place you come to relax, and you didn't get to.",
    "Before I call the store, can you tell me which branch it was?",
    "Under our returns policy you can request a refund within 30 days.",
    "You've been more patient than you should have had to be.",
    "Next time you visit, the first coffee is on us!",
]


@pytest.mark.parametrize("reply", NOT_TRIGGERS)
def test_lookalikes_of_trigger_wordings_are_not_triggers(critique, reply):
    assert not critique(reply).triggers, critique(reply).triggers


def test_an_apology_buried_under_an_excuse_is_only_partial(offline_engine):
    reading = offline_engine.read(
        CritiqueRequest(agent_reply="Sorry, our call volumes are unusually high this week.")
    )
    assert reading.rules["apologize"].verdict.score == 1


def test_explaining_the_problem_away_owns_nothing(critique):
    reply = "A printed boarding pass is a requirement of the airport, so please bring one."
    assert critique(reply).steps.responsibility.score == 0


def test_telling_an_at_fault_customer_many_people_do_this_is_a_way_out(critique):
    result = critique(
        "Plenty of customers hit this after an update. All you need to do is pair it again.",
        customer="I think I deleted the pairing by accident",
    )
    assert result.way_out.customer_at_fault and result.way_out.offered
