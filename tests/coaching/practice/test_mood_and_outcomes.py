"""The mood model as a trainee meets it: what calms the customer, what makes them give up."""

from __future__ import annotations

import pytest

from bot.coaching.practice.mood import MAX_MOOD, Difficulty, Reaction
from bot.coaching.practice.persona_offline import already_said
from bot.coaching.practice.scenarios import load_scenarios
from bot.store.models import SessionStatus

from .conftest import GOOD_REPLIES, INJECTION, NEUTRAL_REPLIES, TRIGGER_REPLIES

SCENARIO_IDS = load_scenarios().ids()
WAY_OUT_REPLY = (
    "I'm sorry this happened, I understand how annoying it is. This trips up a lot of people, "
    "I've done it myself. All you need to do is let me sort it: I've booked it in and I'll "
    "call you tomorrow at 10am to confirm."
)


def play(roleplay, replies):
    return [roleplay.reply(reply) for reply in replies if roleplay.is_active]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_good_asap_replies_calm_even_a_furious_customer_to_satisfied(make_roleplay, scenario_id):
    roleplay = make_roleplay(scenario_id, Difficulty.furious)

    played = play(roleplay, GOOD_REPLIES)

    assert roleplay.status is SessionStatus.satisfied
    assert len(played) <= 4
    moods = [turn.change.after for turn in played]
    assert moods == sorted(moods, reverse=True)
    closings = roleplay.scenario.lines.satisfied + roleplay.persona.shared.lines.satisfied
    assert any(already_said(line, [played[-1].customer.text]) for line in closings)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_trigger_laden_replies_make_the_customer_give_up(make_roleplay, scenario_id):
    roleplay = make_roleplay(scenario_id, Difficulty.upset)

    played = play(roleplay, TRIGGER_REPLIES * 3)

    assert roleplay.status is SessionStatus.gave_up
    assert played[-1].change.after == MAX_MOOD
    closings = roleplay.scenario.lines.gave_up + roleplay.persona.shared.lines.gave_up
    assert played[-1].customer.text in closings


@pytest.mark.parametrize("difficulty", list(Difficulty))
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_persona_never_softens_on_its_own(make_roleplay, scenario_id, difficulty):
    roleplay = make_roleplay(scenario_id, difficulty)
    moods = [roleplay.mood]

    for reply in NEUTRAL_REPLIES:
        if roleplay.is_active:
            moods.append(roleplay.reply(reply).change.after)

    assert moods == sorted(moods), "an empty reply lowered the mood"
    assert roleplay.status in (SessionStatus.active, SessionStatus.gave_up)


def test_a_furious_customer_stays_furious_until_the_agent_earns_it(make_roleplay):
    roleplay = make_roleplay("laptop-dead-on-arrival", Difficulty.furious)

    stalled = play(roleplay, ["Hello.", "I see."])
    earned = roleplay.reply(GOOD_REPLIES[0])

    assert all(turn.change.after >= roleplay.start_mood for turn in stalled)
    assert earned.change.delta < -20


def test_injected_orders_neither_calm_the_customer_nor_end_the_session(make_roleplay):
    roleplay = make_roleplay("airline-refund-eight-weeks", Difficulty.upset)
    before = roleplay.mood

    played = roleplay.reply(INJECTION)

    assert played.change.after >= before
    assert played.status is SessionStatus.active
    assert "Thank" not in played.customer.text


def test_repeating_the_same_non_answer_frustrates_more_each_time(make_roleplay):
    roleplay = make_roleplay("insurance-claim-no-callback", Difficulty.mild)

    deltas = [turn.change.delta for turn in play(roleplay, ["We'll look into it."] * 3)]

    assert deltas[0] < deltas[1] < deltas[2]
    assert roleplay.turns[-1].text.startswith(
        tuple(roleplay.scenario.reactions.repeated + roleplay.persona.shared.reactions.repeated)
    )


def test_a_vague_promise_inflames_and_is_quoted_back(make_roleplay):
    roleplay = make_roleplay("airline-refund-eight-weeks", Difficulty.upset)

    played = roleplay.reply("We'll look into it.")

    assert played.change.delta > 0
    assert played.change.reaction is Reaction.vague
    assert "look into it" in played.customer.text


def test_promising_what_may_not_be_offered_inflames_but_refusing_it_kindly_does_not(
    make_roleplay,
):
    promise = "I'm sorry. I understand. I'll make it right: I'll send a free replacement today."
    refusal = "I'm sorry. I understand. A free replacement isn't possible; I'll call you at 4pm."

    promised = make_roleplay("phone-dropped-in-water").reply(promise)
    refused = make_roleplay("phone-dropped-in-water").reply(refusal)

    assert promised.change.reaction is Reaction.overpromise
    assert promised.status is SessionStatus.active
    assert refused.change.reaction is not Reaction.overpromise
    assert refused.change.after < promised.change.after


def test_cornering_an_at_fault_customer_inflames_a_way_out_calms(make_roleplay):
    blame = "I'm sorry, but you should have read the warranty. You dropped it in water."

    cornered = make_roleplay("phone-dropped-in-water").reply(blame)
    given_a_way_out = make_roleplay("phone-dropped-in-water").reply(WAY_OUT_REPLY)

    assert cornered.change.reaction is Reaction.cornered
    assert cornered.change.delta > 15
    assert given_a_way_out.change.delta < -20


def test_the_turn_limit_ends_a_session_that_goes_nowhere(make_roleplay):
    roleplay = make_roleplay("telecom-outage-phone-queue", Difficulty.mild, turn_limit=3)

    play(roleplay, ["I'm sorry about that."] * 5)

    assert roleplay.status is SessionStatus.turn_limit
    assert len(roleplay.agent_turns) == 3


def test_a_finished_session_takes_no_more_replies(make_roleplay):
    roleplay = make_roleplay("retail-birthday-gift-late", Difficulty.mild)
    play(roleplay, GOOD_REPLIES)

    with pytest.raises(RuntimeError, match="over"):
        roleplay.reply("Anything else?")
