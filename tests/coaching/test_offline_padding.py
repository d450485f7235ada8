"""Filler and repetition earn nothing (issue 13): padding a reply never raises a score.

A weak reply with two neutral sentences appended used to go from 55 to 85 overall: the fitted
layer weighed the reply's whole length, and "today" in a thank-you read as a time window. All
replies here are written for these tests.
"""

from __future__ import annotations

import pytest

STEPS = ("apologize", "sympathize", "responsibility", "act")

WEAK_REPLIES = [
    "Hi there, sorry to hear about the delay with your order. I can see it is still in transit. "
    "Our team will look into it. Let us know if there is anything else.",
    "Hello, sorry about the missing parcel. Couriers are usually busy at this time of year, and "
    "parcels can take a little longer than normal to arrive at your address.",
    "We're looking into it.",
    "Sorry for the trouble. Please contact our support team.",
]

FILLERS = [
    "Thanks again for writing in to us today about this matter.",
    "I hope this message finds you well.",
    "Have a great day!",
    "We appreciate you taking the time to get in touch with us.",
]

CUSTOMER = "My parcel never arrived and nobody answers the phone. This is ridiculous."


def _scores(critique) -> dict[str, int]:
    return {step: getattr(critique.steps, step).score for step in STEPS}


def _padded(reply: str) -> list[str]:
    first_sentence = reply.split(". ")[0].rstrip(".") + "."
    return [
        *(f"{reply} {filler}" for filler in FILLERS),
        " ".join([reply, *FILLERS]),
        f"{FILLERS[0]} {reply} {FILLERS[1]}",
        f"{reply} {reply}",  # said twice
        f"{first_sentence} {reply}",  # one sentence said again
    ]


@pytest.mark.parametrize("customer", [None, CUSTOMER])
@pytest.mark.parametrize("reply", WEAK_REPLIES)
def test_padding_never_raises_a_step_or_the_overall(critique, reply, customer):
    plain = critique(reply, customer)
    for padded in _padded(reply):
        longer = critique(padded, customer)
        raised = {
            step: (before, after)
            for step, before in _scores(plain).items()
            if (after := _scores(longer)[step]) > before
        }
        assert not raised, f"{padded!r} raised {raised}"
        assert longer.overall <= plain.overall, padded


def test_the_reported_padding_no_longer_buys_thirty_points(critique):
    # It went from 55 to 85. A thank-you may still cost a little (the fitted weights read
    # thanking instead of listening as weaker sympathy); it never earns.
    reply = WEAK_REPLIES[0]
    padded = f"{reply} {FILLERS[0]} {FILLERS[0]}"
    assert critique(padded).overall <= critique(reply).overall


def test_a_real_step_still_counts_when_added(critique):
    # Length is not what was removed: a sentence that does something still earns its credit.
    reply = WEAK_REPLIES[1]
    better = f"{reply} I've booked a redelivery for tomorrow between 9am and 1pm."
    assert critique(better).steps.act.score > critique(reply).steps.act.score
