"""The daily reminder's Block Kit, from fixed digests (not from the database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.reminder import MAX_CHANNELS_SHOWN, duration, reminder_message
from bot.reminders.digest import ChannelComparison, Digest, MissedStep, Tip, load_texts
from bot.reminders.metrics import ChannelDayFigures

DAY = date(2026, 11, 23)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def figures(
    day: date, threads: int, median_min: int | None, unanswered: int, critiques: int = 2
) -> ChannelDayFigures:
    median = None if median_min is None else timedelta(minutes=median_min)
    return ChannelDayFigures(
        channel_id="C0SUPPORT",
        day=day,
        threads_opened=threads,
        median_first_response=median,
        p90_first_response=median and median * 3,
        unanswered=unanswered,
        repeat_customers=1,
        critiques=critiques,
    )


def digest(channels: tuple[ChannelComparison, ...], practice: int = 3) -> Digest:
    return Digest(
        team_id="T1",
        channel_id="C0SUPPORT",
        figures_day=DAY,
        texts=load_texts(),
        channels=channels,
        practice_sessions=practice,
        practice_sessions_week_before=1,
        most_missed=MissedStep("sympathize", 0.5, 4, "yesterday"),
        tip=Tip("apology-without-but", 'Drop the "but".'),
        unanswered_after=timedelta(hours=4),
    )


BUSY_DAY = digest(
    (ChannelComparison(figures(DAY, 5, 21, 1), figures(DAY - timedelta(days=7), 2, 45, 1)),)
)


def test_a_day_with_figures(snapshot_json) -> None:
    assert reminder_message(BUSY_DAY) == snapshot_json


def test_a_quiet_day_gets_the_short_message(snapshot_json) -> None:
    nothing = figures(DAY, 0, None, 0, critiques=0)
    quiet = digest((ChannelComparison(nothing, nothing),), practice=0)
    assert quiet.quiet
    message = reminder_message(quiet)
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "actions"]
    assert message == snapshot_json


def test_missing_figures_show_as_not_available() -> None:
    no_replies = ChannelComparison(figures(DAY, 2, None, 2), figures(DAY, 1, 30, 0))
    text = reminder_message(digest((no_replies,)))["blocks"][1]["text"]["text"]
    assert "Median time to first reply: *n/a* (n/a)" in text


def test_many_channels_stay_within_the_block_limit() -> None:
    many = tuple(ChannelComparison(figures(DAY, 1, 5, 0), figures(DAY, 1, 5, 0)) for _ in range(60))
    blocks = reminder_message(digest(many))["blocks"]
    assert len(blocks) <= 50
    assert sum(block["type"] == "section" for block in blocks) == MAX_CHANNELS_SHOWN + 3


def test_durations_read_as_minutes_then_hours() -> None:
    assert duration(timedelta(seconds=89)) == "1 min"
    assert duration(timedelta(minutes=59)) == "59 min"
    assert duration(timedelta(hours=3, minutes=5)) == "3 h 05 min"
