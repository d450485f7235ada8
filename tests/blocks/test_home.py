"""The App Home tab's Block Kit, from fixed progress data."""

from __future__ import annotations

import json
from datetime import date, time

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.home import HOME_BLOCK_LIMIT, home_view
from bot.reminders.progress import (
    AdminOverview,
    CritiqueSummary,
    DisputeSummary,
    PracticeSummary,
    ScheduleSummary,
    StepTrend,
    UserProgress,
)
from bot.store.models import SessionStatus

DAY = date(2026, 11, 20)
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
    watched_channels=("C0SUPPORT", "C0BILLING"),
    schedules=(
        ScheduleSummary("C0SUPPORT", time(9, 30), "Europe/Berlin", (1, 2, 3, 4, 5), True, None),
        ScheduleSummary(
            "C0BILLING", time(8, 0), "UTC", (1, 2, 3, 4, 5, 6, 7), False, "channel archived"
        ),
    ),
    disputes=(DisputeSummary("U0ANA", "C0SUPPORT", "1700000000.000100", "I did <!here>", DAY),),
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
    empty = AdminOverview(watched_channels=(), schedules=(), disputes=())
    assert home_view(NOTHING_YET, empty) == snapshot_json


def test_long_lists_stay_within_slack_limits() -> None:
    admin = AdminOverview(
        watched_channels=tuple(f"C{n:08d}" for n in range(500)),
        schedules=(),
        disputes=tuple(
            DisputeSummary("U0ANA", "C0SUPPORT", "1.2", "x" * 5000, DAY) for _ in range(10)
        ),
    )
    view = home_view(PROGRESS, admin)
    assert len(view["blocks"]) <= HOME_BLOCK_LIMIT
    assert all(
        len(block["text"]["text"]) <= 3000 for block in view["blocks"] if block["type"] == "section"
    )
