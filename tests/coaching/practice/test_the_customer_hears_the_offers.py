"""The practice customer hears what the agent offered: it names back only the card's offers the
agent made (paraphrases count), tests a promise the card rules out, asks about what is still
missing, and ends in words of its own scenario and mood; the scorecard says which offers were
made."""

from __future__ import annotations

import pytest

from bot.coaching.practice.mood import Difficulty, Reaction
from bot.coaching.practice.persona_offline import already_said
from bot.coaching.practice.scenarios import load_persona_lines, parse_scenario
from bot.coaching.practice.scorecard import build_scorecard
from bot.store.models import SessionStatus

CAR = "car-service-courtesy-car-promised"
TELECOM = "telecom-outage-phone-queue"
CARE = (
    "I'm so sorry, that's on us and I know how stressful this is with your day booked up. "
    "I'll own this myself:"
)


TEAM_SCENARIO = """
title = "Helmet late for a birthday"
family = "missed_deadline"
industry = "retail"
wants = ["The helmet by Saturday"]

[persona]
name = "Rae"
voice = "Brisk."
background = "She paid for guaranteed delivery."

[facts]
summary = "The helmet missed the guaranteed date."
customer_at_fault = false

[offers]
may = ["A replacement helmet by express courier", "A refund of the delivery charge"]

[openings]
mild = ["The helmet hasn't come."]
upset = ["Where is the helmet I paid to have guaranteed?"]
furious = ["GUARANTEED. It said guaranteed."]
"""


def customer_lines_after_the_opening(roleplay) -> list[str]:
    return [turn.text for turn in roleplay.turns[1:] if turn.role.value == "customer"]


def scorecard_of(roleplay):
    return build_scorecard(roleplay.scenario, roleplay.difficulty, roleplay.status, roleplay.turns)


def test_the_closing_names_only_the_offers_made_never_the_cards_list(make_roleplay):
    roleplay = make_roleplay(CAR, Difficulty.upset)
    roleplay.reply(f"{CARE} I've booked you a hire car, it will be with you within 45 minutes.")
    roleplay.reply(f"{CARE} the van will be ready at 4pm today and I'll call you the moment it is.")

    assert roleplay.status is SessionStatus.satisfied
    said = " ".join(customer_lines_after_the_opening(roleplay)).lower()
    assert "taxi" not in said  # never offered
    assert "the hire car and a call when the van's ready" in said


def test_a_reply_about_a_courier_gets_no_thanks_for_credit_it_never_offered(make_roleplay):
    roleplay = make_roleplay(TELECOM, Difficulty.mild)
    for _ in range(3):
        if roleplay.is_active:
            roleplay.reply(f"{CARE} a courier is bringing you a mobile data SIM today by 3pm.")

    assert roleplay.status is SessionStatus.satisfied
    said = " ".join(customer_lines_after_the_opening(roleplay)).lower()
    assert "credit" not in said and "engineer" not in said
    assert "the data sim" in said


def test_a_paraphrased_offer_counts_as_made(library):
    car = library.get(CAR)
    made = car.offers_made("Let me get a rental vehicle over to you, then a cab to your first job.")
    assert [car.offers.may[heard.index].said for heard in made] == ["the hire car", "the taxi"]
    assert car.offers_made("Sadly I can't get you a taxi, there are none free.") == []


def test_a_promise_the_card_rules_out_is_tested_even_when_paraphrased(make_roleplay):
    roleplay = make_roleplay(CAR, Difficulty.upset)

    played = roleplay.reply("I'm so sorry. The service itself will be free of charge this time.")

    assert played.change.reaction is Reaction.overpromise
    challenges = roleplay.scenario.offers.may_not[0].challenge
    assert any(already_said(line, [played.customer.text]) for line in challenges)
    card = scorecard_of(roleplay)
    assert [promise.reply_number for promise in card.promises_ruled_out] == [1]
    assert "manager has not approved" in card.promises_ruled_out[0].what
    assert "Not on offer here" in card.practise_next


def test_the_customer_asks_about_what_is_still_missing(make_roleplay):
    roleplay = make_roleplay(CAR, Difficulty.furious)

    played = roleplay.reply(f"{CARE} I've booked you a hire car, it will be with you by 9am.")

    assert played.customer.text.endswith("And what time do I get my van back?")
    assert "how am I supposed to get to my jobs" not in played.customer.text  # that is met


def test_the_scorecard_says_which_of_the_cards_offers_were_made(make_roleplay):
    roleplay = make_roleplay(CAR)
    roleplay.reply("Sorry. I can't do a hire car, but I'll pay for a taxi to your first job now.")
    roleplay.finish(SessionStatus.ended)

    card = scorecard_of(roleplay)

    assert [(made.offer, made.reply_number) for made in card.offers_made] == [
        ("Pay for a taxi to his first job now", 1)
    ]
    assert "taxi" in card.offers_made[0].quote
    assert len(card.offers_not_made) == 2 and card.promises_ruled_out == []


@pytest.mark.parametrize("band", ["calming", "furious"])
def test_a_session_out_of_turns_ends_in_words_of_the_customers_mood(make_roleplay, band):
    reply = {
        "calming": f"{CARE} I'm looking into it with the workshop.",
        "furious": "Calm down. It's not my department.",
    }[band]
    roleplay = make_roleplay(CAR, Difficulty.mild, turn_limit=2)
    roleplay.reply(reply)
    played = roleplay.reply(reply + " Again.")

    assert roleplay.status is SessionStatus.turn_limit
    assert roleplay.rules.band(played.customer.mood_after).value == band
    endings = getattr(load_persona_lines().lines.turn_limit, band)
    assert any(played.customer.text.endswith(line) for line in endings)


def test_giving_up_does_not_close_every_scenario_with_the_same_sentence(library):
    last_sentences = {
        line.rstrip(".").split(". ")[-1]
        for scenario in library.scenarios.values()
        for line in scenario.lines.gave_up
    }
    assert len(last_sentences) > 2 * len(library.scenarios)
    for scenario in library.scenarios.values():
        assert len(scenario.lines.gave_up) >= 2, scenario.id


def test_a_team_scenario_with_plain_offers_hears_them_by_their_own_words():
    scenario = parse_scenario(TEAM_SCENARIO, "team-one", "team")

    made = scenario.offers_made("I'll send a new helmet by express courier today.")

    assert [scenario.offers.may[heard.index].offer for heard in made] == [
        "A replacement helmet by express courier"
    ]
    assert scenario.offers_made("I'll refund the helmet.") == []


def test_every_built_in_offer_says_how_the_customer_names_it(library):
    for scenario in library.scenarios.values():
        for offer in scenario.offers.may:
            assert offer.heard and offer.said, (scenario.id, offer.offer)


def test_offers_named_at_the_start_of_a_sentence_start_with_a_capital(make_roleplay):
    roleplay = make_roleplay("hotel-anniversary-room-not-honoured", Difficulty.mild, seed="x")

    played = roleplay.reply(
        "I'm so sorry, that's on us and I know how disappointing this is on your anniversary. "
        "I've moved you to our partial sea-view room tonight and booked the suite for tomorrow."
    )

    assert played.status is SessionStatus.satisfied
    assert "Thank you. The room tonight and the suite tomorrow." in played.customer.text
