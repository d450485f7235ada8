"""The offline persona: in character, varied within a session, the same for the same seed."""

from __future__ import annotations

import pytest

from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.persona_offline import already_said
from bot.coaching.practice.scenarios import load_scenarios
from bot.store.models import TurnRole

SCENARIO_IDS = load_scenarios().ids()
# Replies that keep the conversation going for the whole turn limit.
STALLING = {
    "heard": "I'm sorry about that.",
    "vague": "We'll look into it.",
    "ignored": "Hello.",
}


def customer_lines(roleplay) -> list[str]:
    return [turn.text for turn in roleplay.turns if turn.role is TurnRole.customer]


@pytest.mark.parametrize("kind", list(STALLING))
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_no_line_is_said_twice_in_a_session(make_roleplay, offline_persona, scenario_id, kind):
    roleplay = make_roleplay(scenario_id, Difficulty.mild, turn_limit=12)
    reply = STALLING[kind]

    while roleplay.is_active:
        # Each reply worded a little differently, so the customer meets the same kind of reply.
        roleplay.reply(f"{reply} ({len(roleplay.turns)})")

    said = customer_lines(roleplay)
    assert len(said) == len(set(said))
    shared = offline_persona.shared
    pools = [lines for name, lines in shared.lines if name != "turn_limit"]
    pools += [lines for _, lines in shared.lines.turn_limit] + [shared.asked_again]
    pools += [lines for _, lines in shared.reactions]
    for line in (line for pool in pools for line in pool):
        assert sum(already_said(line, [message]) for message in said) <= 1, line


def test_the_same_seed_replays_the_same_conversation(make_roleplay):
    replies = ["We'll look into it.", "I'm sorry about that.", "Calm down."]
    first = make_roleplay("bank-card-blocked-abroad", seed="session-7")
    again = make_roleplay("bank-card-blocked-abroad", seed="session-7")
    other = make_roleplay("bank-card-blocked-abroad", seed="session-8")

    for roleplay in (first, again, other):
        for reply in replies:
            roleplay.reply(reply)

    assert customer_lines(first) == customer_lines(again)
    assert customer_lines(first) != customer_lines(other)


def test_the_opening_is_one_of_the_scenarios_lines_for_that_difficulty(make_roleplay):
    for difficulty in Difficulty:
        roleplay = make_roleplay("kitchen-install-date-moved-twice", difficulty)
        assert roleplay.turns[0].text in roleplay.scenario.openings[difficulty]
        assert roleplay.turns[0].mood_after == roleplay.scenario.start_mood(difficulty)


def test_the_customer_quotes_an_inflaming_phrase_back(make_roleplay):
    roleplay = make_roleplay("utility-billing-query-five-weeks")

    played = roleplay.reply("Calm down, madam.")

    assert '"Calm down' in played.customer.text
