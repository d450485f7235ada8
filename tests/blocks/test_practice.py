"""Practice Block Kit: snapshots of fixed data (not the built-in scenarios' current wording),
escaping, and Slack's limits."""

from __future__ import annotations

import json

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.practice import (
    END_ACTION,
    TRY_AGAIN_ACTION,
    customer_message,
    meter,
    picker_choice,
    picker_modal,
    scenario_card,
    scenario_list,
    scorecard_message,
    stats_message,
)
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import Family, ScenarioLibrary, parse_scenario
from bot.coaching.practice.scorecard import (
    OfferMade,
    ReplyHighlight,
    RuledOutPromise,
    Scorecard,
    TriggerUse,
)
from bot.coaching.practice.service import PracticeStats
from bot.store.models import SessionStatus

PING = "<!channel> <https://evil.example|your bank>"
SCENARIO_TOML = """
title = "Courier left the parcel <!here> in the rain"
family = "broken_promise"
industry = "parcel delivery"
wants = ["A dry replacement by Friday"]

[persona]
name = "Ana <@U123>"
voice = "Short sentences."
background = "She was promised a signed-for delivery."

[facts]
summary = "The courier left it outside; it was soaked."
customer_at_fault = false
details = ["The driver's photo shows the doorstep."]

[offers]
may = ["A replacement by Friday", "A refund of the delivery fee"]

[[offers.may_not]]
what = "A full refund and keeping the goods"
phrases = ["keep it and"]

[openings]
mild = ["My parcel was soaked."]
upset = ["My parcel was left in the rain!"]
furious = ["LEFT IN THE RAIN. AGAIN."]

[mood.difficulty.mild]
start_mood = 40
[mood.difficulty.upset]
start_mood = 65
[mood.difficulty.furious]
start_mood = 90
"""


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture
def scenario():
    return parse_scenario(SCENARIO_TOML, "parcel-in-the-rain", "test")


def scorecard(**changes) -> Scorecard:
    card = Scorecard(
        scenario_id="parcel-in-the-rain",
        scenario_title="Courier left the parcel in the rain",
        family=Family.broken_promise,
        difficulty=Difficulty.furious,
        outcome=SessionStatus.satisfied,
        outcome_text="The customer is satisfied.",
        replies=3,
        start_mood=90,
        end_mood=10,
        mood_trajectory=[90, 95, 40, 10],
        step_averages={"apologize": 1.67, "sympathize": 1.33, "responsibility": 1.0, "act": 2.0},
        best_reply=ReplyHighlight(
            reply_number=3, quote="I'm so sorry.", overall=92, mood_change=-30
        ),
        worst_reply=ReplyHighlight(reply_number=1, quote=PING, overall=10, mood_change=5),
        triggers=[
            TriggerUse(kind="calm_down", replies=1, first_quote="Calm down.", better="Name it.")
        ],
        offers_made=[
            OfferMade(offer="A replacement by Friday", reply_number=3, quote="I'll send one")
        ],
        offers_not_made=["A refund of the delivery fee <!here>"],
        promises_ruled_out=[
            RuledOutPromise(what="A full refund and keeping the goods", reply_number=2, quote=PING)
        ],
        practise_next='Drop "calm down".',
    )
    return card.model_copy(update=changes)


def test_picker_modal(snapshot_json) -> None:
    assert picker_modal(list(Family)[:2], "C1", offer_channel=True) == snapshot_json


def test_the_picker_offers_a_channel_thread_only_when_asked() -> None:
    view = picker_modal([Family.no_reply], "D1", offer_channel=False)
    [place] = [b for b in view["blocks"] if b.get("block_id") == "practice_place"]
    assert [o["value"] for o in place["element"]["options"]] == ["dm"]


def test_a_submitted_picker_reads_back_the_choice() -> None:
    def picked(value: str) -> dict:
        return {"selected_option": {"value": value}}

    view = {
        "private_metadata": "C1",
        "state": {
            "values": {
                name: {name: picked(value)}
                for name, value in [
                    ("practice_family", "no_reply"),
                    ("practice_difficulty", "furious"),
                    ("practice_place", "channel"),
                ]
            }
        },
    }
    choice = picker_choice(view)
    assert (choice.family, choice.difficulty, choice.in_channel, choice.channel_id) == (
        Family.no_reply,
        Difficulty.furious,
        True,
        "C1",
    )


def test_scenario_card(snapshot_json, scenario) -> None:
    card = scenario_card(scenario, Difficulty.upset)
    # Only mrkdwn is parsed for mentions; the header is plain text.
    mrkdwn = json.dumps([card["text"], *(b for b in card["blocks"] if b["type"] != "header")])
    assert "<!here>" not in mrkdwn and "<@U123>" not in mrkdwn
    assert card == snapshot_json


def test_customer_message_with_the_meter(snapshot_json) -> None:
    message = customer_message(PING, 72, -8, session_id=7, active=True)
    assert "<!channel>" not in json.dumps(message)
    assert message == snapshot_json


def test_the_last_customer_message_has_no_end_button() -> None:
    message = customer_message("Thanks.", 5, -20, session_id=7, active=False)
    assert END_ACTION not in json.dumps(message)


def test_a_huge_customer_message_stays_within_the_section_limit() -> None:
    message = customer_message("&" * 10_000, 50, 0, session_id=1, active=True)
    assert len(message["blocks"][0]["text"]["text"]) <= 3000


@pytest.mark.parametrize(
    ("mood", "shown"),
    [
        (0, "⬜⬜⬜⬜⬜"),
        (12, "🟩⬜⬜⬜⬜"),
        (50, "🟧🟧🟧⬜⬜"),
        (72, "🟥🟥🟥🟥⬜"),
        (100, "🟥" * 5),
    ],
)
def test_the_meter_fills_and_colours_with_anger(mood, shown) -> None:
    assert meter(mood) == shown


def test_scorecard(snapshot_json) -> None:
    message = scorecard_message(scorecard())
    assert "<!channel>" not in json.dumps(message)
    assert TRY_AGAIN_ACTION in json.dumps(message)
    assert message == snapshot_json


def test_a_scorecard_without_triggers_or_a_worst_reply(snapshot_json) -> None:
    assert scorecard_message(scorecard(triggers=[], worst_reply=None)) == snapshot_json


def test_the_scorecard_says_which_offers_were_made_and_which_promises_broke_the_card() -> None:
    text = json.dumps(scorecard_message(scorecard()), ensure_ascii=False)
    assert "A replacement by Friday: made in reply 3" in text
    assert "A refund of the delivery fee &lt;!here&gt;: not offered" in text
    assert "Reply 2:" in text and "A full refund and keeping the goods" in text
    assert "<!here>" not in text and "<!channel>" not in text


def test_a_scorecard_stored_before_offers_were_recorded_shows_none() -> None:
    stored = scorecard().model_dump(mode="json")
    for key in ("offers_made", "offers_not_made", "promises_ruled_out"):
        del stored[key]
    text = json.dumps(scorecard_message(Scorecard.model_validate(stored)))
    assert "The card's offers" not in text and "rules it out" not in text


def test_scenario_list_groups_by_family(snapshot_json, scenario) -> None:
    assert scenario_list(ScenarioLibrary({scenario.id: scenario})) == snapshot_json


def test_stats(snapshot_json) -> None:
    stats = PracticeStats(
        sessions=2,
        outcomes={"satisfied": 1, "gave_up": 1},
        replies=7,
        step_averages={"apologize": 1.5, "sympathize": 1.0, "responsibility": 0.5, "act": 1.0},
        best_overall=88,
        scenarios_practised=["parcel-in-the-rain"],
        last_practised_at=None,
    )
    assert stats_message(stats) == snapshot_json
