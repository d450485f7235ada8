"""Disputes in Block Kit: the Home tab's entries, the Agree and Disagree forms, the messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.disputes import (
    AGREE_ACTION,
    DISAGREE_ACTION,
    agree_modal,
    agreed_levels,
    already_resolved_text,
    disagree_modal,
    disagree_reason,
    open_dispute_blocks,
    outcome_message,
    resolved_disputes_blocks,
)
from bot.blocks.text import SECTION_TEXT_LIMIT
from bot.coaching.disputes import Dispute, DisputeOverview, Levels
from bot.store.models import DisputeResolution

AT = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
REPLY = "As per our policy <!channel> orders ship within 14 days.\nI'm sorry for the wait."
DISPUTE = Dispute(
    id=7,
    user_id="U0ANA",
    comment="I did apologise <@U0LEAD>",
    created_at=AT,
    channel_id="C0SUPPORT",
    message_ts="1700000000.000100",
    scores={"apologize": 0, "sympathize": 0, "responsibility": 1, "act": 2},
    has_trigger=True,
    reply_text=REPLY,
)
AGREED = replace(
    DISPUTE,
    scores={"apologize": 2, "sympathize": 1, "responsibility": 1, "act": 2},
    resolution=DisputeResolution.agreed,
    resolved_by="U0LEAD",
    resolved_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    labels=Levels(2, 1, 1, 2, 1),
)
DISAGREED = replace(
    DISPUTE,
    id=8,
    resolution=DisputeResolution.disagreed,
    resolved_by="U0LEAD",
    resolved_at=datetime(2026, 11, 21, 9, 5, tzinfo=UTC),
    resolution_note="The apology came after the policy line <!here>.",
)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_an_open_dispute_links_the_message_and_shows_scores_words_and_buttons(
    snapshot_json,
) -> None:
    blocks = open_dispute_blocks(DISPUTE)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "https://slack.com/archives/C0SUPPORT/p1700000000000100" in shown
    assert (
        "Apologize 0/2 · Sympathize 0/2 · Accept responsibility 1/2 · Prepare to act 2/2" in shown
    )
    assert "> As per our policy &lt;!channel&gt; orders" in shown  # quoted, cannot ping
    assert [e["action_id"] for e in blocks[-1]["elements"]] == [AGREE_ACTION, DISAGREE_ACTION]
    assert blocks == snapshot_json


def test_without_stored_text_the_entry_says_so() -> None:
    shown = json.dumps(open_dispute_blocks(replace(DISPUTE, reply_text=None)))
    assert "does not store reply text" in shown


def test_a_long_reply_stays_within_a_section() -> None:
    blocks = open_dispute_blocks(replace(DISPUTE, reply_text="<&> " * 5000))
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in blocks if "text" in b)


def test_resolved_disputes_are_counted_listed_and_exportable(snapshot_json) -> None:
    overview = DisputeOverview(
        open=(),
        resolved=(DISAGREED, AGREED),
        counts={DisputeResolution.agreed: 3, DisputeResolution.disagreed: 1},
        waiting=0,
    )
    blocks = resolved_disputes_blocks(overview, "T0FAKE")
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "3 agreed" in shown and "asap-coach disputes --team T0FAKE --export" in shown
    assert "&lt;!here&gt;" in shown
    assert blocks == snapshot_json


def test_the_agree_form_starts_from_the_critiques_scores(snapshot_json) -> None:
    view = agree_modal(DISPUTE)
    initial = {
        block["block_id"]: block["element"]["initial_option"]["value"]
        for block in view["blocks"]
        if block["type"] == "input"
    }
    assert initial == {
        "apologize": "0",
        "sympathize": "0",
        "responsibility": "1",
        "act": "2",
        "trigger": "1",
    }
    assert view["private_metadata"] == "7"
    assert view == snapshot_json


def test_the_agree_forms_state_reads_as_levels() -> None:
    picked = {
        "apologize": "2",
        "sympathize": "1",
        "responsibility": "1",
        "act": "2",
        "trigger": "0",
    }
    state = {name: {name: {"selected_option": {"value": v}}} for name, v in picked.items()}
    assert agreed_levels({"state": {"values": state}}) == Levels(2, 1, 1, 2, 0)


def test_the_disagree_form_asks_why(snapshot_json) -> None:
    view = disagree_modal(DISPUTE)
    state = {"reason": {"reason": {"value": "  Too late.  "}}}
    assert disagree_reason({"state": {"values": state}}) == "Too late."
    assert view == snapshot_json


def test_the_disputer_is_told_the_outcome(snapshot_json) -> None:
    agreed, disagreed = outcome_message(AGREED), outcome_message(DISAGREED)
    assert "Its scores are now Apologize 2/2 · Sympathize 1/2" in agreed["text"]
    assert "> The apology came after the policy line &lt;!here&gt;." in disagreed["text"]
    assert [agreed, disagreed] == snapshot_json
    assert "already resolved" in already_resolved_text(AGREED)
