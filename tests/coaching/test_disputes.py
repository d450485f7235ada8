"""Disputes resolved by an admin, over SQLite and PostgreSQL: agreed corrects the stored scores
and keeps a label, disagreed keeps the scores with why, the first decision stands, and the
agreed replies whose text is stored export as calibration labels."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from bot.coaching.batch import labelled_replies
from bot.coaching.disputes import (
    Levels,
    agree,
    disagree,
    dispute_overview,
    exported_labels,
    find_dispute,
    mark_told,
)
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.reviews import ReviewedMessage, record_dispute, request_critique, review_state
from bot.store.db import Database
from bot.store.models import Critique, DisputeResolution, Workspace

REPLY = "As per our policy orders ship within 14 days. Sorry for the wait."
MESSAGE = ReviewedMessage(
    team_id="T1",
    channel_id="C1",
    message_ts="1700000000.000100",
    author_user_id="UAGENT",
    text=REPLY,
)
CORRECTED = Levels(apologize=2, sympathize=0, responsibility=1, act=1, trigger=1)


def disputed(
    database: Database, message: ReviewedMessage = MESSAGE, *, store_text: bool = True
) -> int:
    """The id of a dispute of `message`'s critique, by its author."""
    with database.session() as session:
        if session.get(Workspace, message.team_id) is None:
            session.add(Workspace(team_id=message.team_id, store_reply_text=store_text))
    state = review_state(database, message.team_id, message.channel_id, message.message_ts, "U")
    review = request_critique(database, OfflineCritiqueEngine(), message, "ULEAD", "test", state)
    assert record_dispute(database, message.team_id, review.critique_id, "UAGENT", "I did!")
    [dispute] = [
        d
        for d in overview(database, message.team_id).open
        if d.message_ts == message.message_ts and d.resolution is None
    ]
    return dispute.id


def overview(database: Database, team_id: str = "T1"):
    with database.session() as session:
        return dispute_overview(session, team_id)


def stored_scores(database: Database, team_id: str = "T1") -> dict[str, int]:
    with database.session() as session:
        row = session.query(Critique).filter_by(team_id=team_id).one()
        return {s: getattr(row, s) for s in ("apologize", "sympathize", "responsibility", "act")}


def test_a_dispute_shows_the_message_scores_and_words(database: Database) -> None:
    dispute_id = disputed(database)

    dispute = find_dispute(database, "T1", dispute_id)

    assert dispute is not None
    assert (dispute.user_id, dispute.comment, dispute.channel_id, dispute.message_ts) == (
        "UAGENT",
        "I did!",
        "C1",
        "1700000000.000100",
    )
    assert dispute.scores == stored_scores(database)
    assert dispute.reply_text == REPLY
    assert find_dispute(database, "T2", dispute_id) is None  # another workspace's


def test_without_stored_text_the_words_are_unknown(database: Database) -> None:
    dispute = find_dispute(database, "T1", disputed(database, store_text=False))
    assert dispute is not None and dispute.reply_text is None


def test_agreeing_corrects_the_stored_scores_and_keeps_the_label(database: Database) -> None:
    dispute_id = disputed(database)
    assert overview(database).waiting == 1

    dispute = agree(database, "T1", dispute_id, "ULEAD", CORRECTED)

    assert dispute is not None
    assert (dispute.resolution, dispute.resolved_by, dispute.labels) == (
        DisputeResolution.agreed,
        "ULEAD",
        CORRECTED,
    )
    assert stored_scores(database) == CORRECTED.steps() == dispute.scores
    now = overview(database)
    assert now.open == () and now.waiting == 0 and [d.id for d in now.resolved] == [dispute_id]
    assert now.counts == {DisputeResolution.agreed: 1, DisputeResolution.disagreed: 0}


def test_disagreeing_keeps_the_scores_with_why(database: Database) -> None:
    dispute_id = disputed(database)
    before = stored_scores(database)

    dispute = disagree(database, "T1", dispute_id, "ULEAD", "  It came after the policy line. ")

    assert dispute is not None and dispute.resolution is DisputeResolution.disagreed
    assert dispute.resolution_note == "It came after the policy line."
    assert stored_scores(database) == before
    assert exported_labels(database, "T1").lines == []


def test_the_first_decision_stands(database: Database) -> None:
    dispute_id = disputed(database)
    assert agree(database, "T1", dispute_id, "ULEAD", CORRECTED) is not None

    again = disagree(database, "T1", dispute_id, "UOTHER", "No.")
    other_levels = agree(database, "T1", dispute_id, "UOTHER", replace(CORRECTED, act=2))

    for dispute in (again, other_levels):
        assert dispute is not None
        assert (dispute.resolution, dispute.resolved_by) == (DisputeResolution.agreed, "ULEAD")
    assert stored_scores(database) == CORRECTED.steps()


def test_two_admins_at_once_resolve_it_once(database: Database) -> None:
    dispute_id = disputed(database)

    def resolve(admin: str):
        if admin == "UA":
            return agree(database, "T1", dispute_id, admin, CORRECTED)
        return disagree(database, "T1", dispute_id, admin, "No.")

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(resolve, ["UA", "UB"]))

    winners = {(d.resolution, d.resolved_by) for d in outcomes}
    assert len(winners) == 1  # both see the same, single decision


def test_another_workspace_cannot_resolve_it(database: Database) -> None:
    dispute_id = disputed(database)
    assert agree(database, "T2", dispute_id, "ULEAD", CORRECTED) is None
    assert disagree(database, "T2", dispute_id, "ULEAD", "No.") is None
    assert overview(database).open[0].resolution is None


def test_telling_the_disputer_is_remembered(database: Database) -> None:
    dispute_id = disputed(database)
    assert agree(database, "T1", dispute_id, "ULEAD", CORRECTED).told is False
    mark_told(database, "T1", dispute_id)
    assert find_dispute(database, "T1", dispute_id).told is True


def test_levels_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="act"):
        Levels(2, 1, 0, 3, 0)
    with pytest.raises(ValueError, match="trigger"):
        Levels(2, 1, 0, 1, 2)


def test_agreed_replies_with_text_export_as_calibration_labels(database: Database) -> None:
    kept = agree(database, "T1", disputed(database), "ULEAD", CORRECTED)
    hidden = replace(MESSAGE, team_id="T3", message_ts="1700000000.000200")
    agree(database, "T3", disputed(database, hidden, store_text=False), "ULEAD", CORRECTED)

    export = exported_labels(database, "T1")

    assert export.without_text == 0
    assert export.lines == [
        {
            "id": f"dispute-{kept.id}",
            "agent_reply": REPLY,
            "apologize": 2,
            "sympathize": 0,
            "responsibility": 1,
            "act": 1,
            "trigger": 1,
        }
    ]
    replies, errors = labelled_replies([json.dumps(export.lines[0])])
    assert errors == [] and replies[0].gold == {**CORRECTED.steps(), "trigger": 1}
    assert exported_labels(database, "T3").lines == []
    assert exported_labels(database, "T3").without_text == 1


def test_a_reply_disputed_twice_exports_once_with_the_latest_levels(database: Database) -> None:
    first = disputed(database)
    agree(database, "T1", first, "ULEAD", CORRECTED)
    second = disputed(database)  # someone else disputes the corrected critique
    agree(database, "T1", second, "ULEAD", replace(CORRECTED, act=2))

    [line] = exported_labels(database, "T1").lines

    assert (line["id"], line["act"]) == (f"dispute-{second}", 2)
