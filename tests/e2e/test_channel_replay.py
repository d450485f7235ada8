"""Real support conversations (../shared/eval/channel-replay.jsonl), replayed message by message
through the fake Slack at their real times: the bot records them from the Events API like any
other channel, and its figures match a plain reading of the rows written in the test."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.fakes.slack import FakeSlack
from bot.reminders.metrics import DayWindow, channel_day_figures
from bot.store.db import Database
from bot.store.models import ChannelMessage
from tests.reminders.test_replay_figures import (
    REPLAY,
    UNANSWERED_AFTER_SECONDS,
    day_bounds,
    plain_figures,
    utc_days,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not REPLAY.exists(), reason=f"no replay data at {REPLAY}"),
]
TEAM_ID = "T0FAKE"  # the fake's workspace
# The fake numbers messages of the same second 100 µs apart, as Slack's ts must be unique.
TS_TOLERANCE_SECONDS = 0.05


class ReplayClock:
    """The fake's clock, set to each replayed message's real time before it is posted. It starts
    before the replay's first message: Slack's ts only grow, so the set-up must come first."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in REPLAY.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def slack_clock(rows: list[dict]) -> ReplayClock:
    return ReplayClock(start=min(row["ts"] for row in rows) - 3600)


def _replay(fake: FakeSlack, clock: ReplayClock, rows: list[dict], channels, users) -> None:
    roots: dict[tuple[str, str], str] = {}
    for row in sorted(rows, key=lambda r: (r["ts"], not r["is_root"])):
        clock.now = row["ts"]
        thread = (row["channel"], row["thread"])
        ts = fake.user_posts(
            users[row["user"]],
            channels[row["channel"]],
            row["text"],
            thread_ts=None if row["is_root"] else roots[thread],
        )
        if row["is_root"]:
            roots[thread] = ts


def _recorded(db: Database, channel_id: str) -> int:
    with db.session() as session:
        count = select(func.count()).where(ChannelMessage.channel_id == channel_id)
        return session.scalar(count)


def _bot_figures(db: Database, channel_id: str, day: date, as_of: float) -> dict:
    with db.session() as session:
        figures = channel_day_figures(
            session,
            TEAM_ID,
            channel_id,
            DayWindow.of(day, ZoneInfo("UTC")),
            as_of=datetime.fromtimestamp(as_of, UTC),
            unanswered_after=timedelta(seconds=UNANSWERED_AFTER_SECONDS),
        )
    median, p90 = figures.median_first_response, figures.p90_first_response
    return {
        "threads_opened": figures.threads_opened,
        "median_first_response": median and median.total_seconds(),
        "p90_first_response": p90 and p90.total_seconds(),
        "unanswered": figures.unanswered,
        "repeat_customers": figures.repeat_customers,
    }


def test_replayed_channels_give_the_figures_of_a_plain_reading(
    running_bot, fake_slack: FakeSlack, slack_clock: ReplayClock, rows: list[dict]
) -> None:
    db = running_bot.services.db
    lead = fake_slack.add_user("lead", is_admin=True)
    users = {user: fake_slack.add_user(user) for user in sorted({row["user"] for row in rows})}
    team = {users[row["user"]] for row in rows if row["role"] == "team"}
    group = fake_slack.add_usergroup("support-team", sorted(team))
    names = sorted({row["channel"] for row in rows})
    channels = {
        name: fake_slack.add_channel(
            name, members=[lead, *(users[row["user"]] for row in rows if row["channel"] == name)]
        )
        for name in names
    }
    fake_slack.send_command(lead, channels[names[0]], "/practice", f"team <!subteam^{group}>")
    for name in names:
        fake_slack.send_command(lead, channels[name], "/practice", f"watch <#{channels[name]}>")
    # Each admin command answers once its work is done (the watch after its backfill).
    fake_slack.wait_until(lambda: len(fake_slack.ephemerals(user=lead)) == 1 + len(names))

    _replay(fake_slack, slack_clock, rows, channels, users)

    def all_recorded() -> bool:
        return all(
            _recorded(db, channels[name]) == sum(row["channel"] == name for row in rows)
            for name in names
        )

    fake_slack.wait_until(all_recorded, timeout=30)
    end_of_data = max(row["ts"] for row in rows) + 1
    opened = 0
    for name in names:
        for day in utc_days(rows):
            expected = plain_figures(rows, name, *day_bounds(day), as_of=end_of_data)
            found = _bot_figures(db, channels[name], day, end_of_data)
            assert found == pytest.approx(expected, abs=TS_TOLERANCE_SECONDS), (name, day)
            opened += found["threads_opened"]
    # Every conversation of the replay was opened by a customer: none was lost on the way.
    assert opened == len({(row["channel"], row["thread"]) for row in rows})
