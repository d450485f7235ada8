"""The App Home tab's Block Kit, from fixed progress data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.home import HOME_BLOCK_LIMIT, home_view
from bot.coaching.disputes import Dispute, DisputeOverview
from bot.reminders.progress import (
    AdminOverview,
    CritiqueSummary,
    PracticeSummary,
    ScheduleSummary,
    StepTrend,
    UserProgress,
)
from bot.store.models import DisputeResolution, SessionStatus

DAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
NO_DISPUTES = DisputeOverview(
    open=(), resolved=(), counts=dict.fromkeys(DisputeResolution, 0), waiting=0
)


def dispute(comment: str | None, reply_text: str | None = None, dispute_id: int = 7) -> Dispute:
    return Dispute(
        id=dispute_id,
        user_id="U0ANA",
        comment=comment,
        created_at=AT,
        channel_id="C0SUPPORT",
        message_ts="1700000000.000100",
        scores={"apologize": 2, "sympathize": 0, "responsibility": 1, "act": 2},
        has_trigger=False,
        reply_text=reply_text,
    )


PROGRESS = UserProgress(
    sessions=(PracticeSummary("laptop-dead-on-arrival", DAY, SessionStatus.satisfied),),
    trends=(
        StepTrend("apologize", 1.0, 2.0),
        StepTrend("sympathize", None, 0.5),
        StepTrend("responsibility", 1.5, 1.5),
        StepTrend("act", 2.0, 1.0),
    ),
    weakest_step="sympathize",
    critiques=(CritiqueSummary("C0SUPPORT", "1700000000.000100", DAY, (2, 0, 1, 2)),),
)
ADMIN = AdminOverview(
    team_id="T0FAKE",
    watched_channels=("C0SUPPORT", "C0BILLING"),
    schedules=(
        ScheduleSummary("C0SUPPORT", time(9, 30), "Europe/Berlin", (1, 2, 3, 4, 5), True, None),
        ScheduleSummary(
            "C0BILLING", time(8, 0), "UTC", (1, 2, 3, 4, 5, 6, 7), False, "channel archived"
        ),
    ),
    disputes=DisputeOverview(
        open=(dispute("I did <!here>"),),
        resolved=(),
        counts=dict.fromkeys(DisputeResolution, 0),
        waiting=1,
    ),
)
NOTHING_YET = UserProgress(sessions=(), trends=(), weakest_step=None, critiques=())


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_a_person_with_practice_and_critiques(snapshot_json) -> None:
    assert home_view(PROGRESS, None) == snapshot_json


def test_an_admin_also_sees_settings_and_disputes(snapshot_json) -> None:
    view = home_view(PROGRESS, ADMIN)
    shown = json.dumps(view)
    assert "paused (channel archived)" in shown
    assert "<!here>" not in shown  # a dispute comment cannot ping the channel
    assert view == snapshot_json


def test_empty_states(snapshot_json) -> None:
    empty = AdminOverview(team_id="T0FAKE", watched_channels=(), schedules=(), disputes=NO_DISPUTES)
    assert home_view(NOTHING_YET, empty) == snapshot_json


def test_long_lists_stay_within_slack_limits() -> None:
    admin = AdminOverview(
        team_id="T0FAKE",
        watched_channels=tuple(f"C{n:08d}" for n in range(500)),
        schedules=(),
        disputes=DisputeOverview(
            open=tuple(dispute("x" * 5000, "<!channel> " * 2000, n) for n in range(10)),
            resolved=(),
            counts=dict.fromkeys(DisputeResolution, 0),
            waiting=25,
        ),
    )
    view = home_view(PROGRESS, admin)
    assert "25 waiting; the newest 10 are below" in json.dumps(view)
    assert len(view["blocks"]) <= HOME_BLOCK_LIMIT
    assert all(
        len(block["text"]["text"]) <= 3000 for block in view["blocks"] if block["type"] == "section"
    )
