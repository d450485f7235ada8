"""The scorecard a trainee reads at the end of a session."""

from __future__ import annotations

from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scorecard import build_scorecard
from bot.prompt_files import read_toml
from bot.store.models import SessionStatus

from .conftest import GOOD_REPLIES


def scorecard_of(roleplay):
    return build_scorecard(roleplay.scenario, roleplay.difficulty, roleplay.status, roleplay.turns)


def test_a_won_session_shows_the_trajectory_steps_and_best_and_worst_replies(make_roleplay):
    roleplay = make_roleplay("saas-support-ticket-silence", Difficulty.furious)
    opening_move = "We'll look into it."
    for reply in [opening_move, *GOOD_REPLIES]:
        if roleplay.is_active:
            roleplay.reply(reply)

    card = scorecard_of(roleplay)

    assert card.outcome is SessionStatus.satisfied
    assert card.outcome_text == "The customer is satisfied."
    assert card.mood_trajectory[0] == card.start_mood == 88
    assert card.mood_trajectory[-1] == card.end_mood < 20
    assert len(card.mood_trajectory) == card.replies + 1
    assert card.worst_reply.quote == opening_move and card.worst_reply.reply_number == 1
    assert card.best_reply.overall > card.worst_reply.overall
    assert card.best_reply.quote.startswith("I'm")
    assert set(card.step_averages) == {"apologize", "sympathize", "responsibility", "act"}
    assert card.triggers == []
    assert card.practise_next


def test_triggers_are_listed_and_the_most_used_one_is_what_to_practise(make_roleplay):
    roleplay = make_roleplay("car-service-courtesy-car-promised")
    for reply in ["Calm down, sir.", "Please calm down. It's not my department."]:
        roleplay.reply(reply)
    roleplay.finish(SessionStatus.ended)

    card = scorecard_of(roleplay)

    assert card.outcome is SessionStatus.ended
    assert card.triggers[0].kind == "calm_down" and card.triggers[0].replies == 2
    assert card.triggers[0].first_quote == "Calm down, sir."
    assert card.practise_next == card.triggers[0].better
    assert card.step_averages["apologize"] == 0


def test_an_at_fault_customer_never_given_a_way_out_is_what_to_practise(make_roleplay):
    roleplay = make_roleplay("printer-wrong-cartridges-opened")
    roleplay.reply("I'm sorry for the trouble. I understand it's annoying.")
    roleplay.finish(SessionStatus.ended)

    card = scorecard_of(roleplay)

    assert card.practise_next == read_toml("practice", "scorecard.toml")["way_out"]


def test_a_session_ended_before_any_reply_still_has_a_scorecard(make_roleplay):
    roleplay = make_roleplay("laptop-dead-on-arrival")
    roleplay.finish(SessionStatus.timed_out)

    card = scorecard_of(roleplay)

    assert card.replies == 0
    assert card.best_reply is None and card.worst_reply is None
    assert card.mood_trajectory == [card.start_mood]
    assert card.outcome_text == "The session timed out without a reply."
