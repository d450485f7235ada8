"""Figures on real support conversations (../shared/eval/channel-replay.jsonl), checked against a
separate, deliberately plain reading of the definitions written here from the raw rows.

The data is never copied into the repository: the test skips when it is absent.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.metrics import DayWindow, MessageMeta, day_figures
from bot.store.models import AuthorKind

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("ASAP_SHARED_DIR", REPO_ROOT.parent / "shared"))
REPLAY = SHARED_DIR / "eval" / "channel-replay.jsonl"
UNANSWERED_AFTER_SECONDS = 4 * 3600
COME_BACK_SECONDS = 30 * 60
MICROSECONDS = 0.001  # what numbering the tweets within a second adds to the bot's times

pytestmark = pytest.mark.skipif(not REPLAY.exists(), reason=f"no replay data at {REPLAY}")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in REPLAY.read_text(encoding="utf-8").splitlines() if line]


def as_messages(rows: list[dict], channel: str) -> list[MessageMeta]:
    """The replay as the listener would record it. Several tweets share a second, while Slack's
    ts is unique per channel: the microseconds number them (a root before its replies)."""
    mine = sorted(
        (r for r in rows if r["channel"] == channel), key=lambda r: (r["ts"], not r["is_root"])
    )
    seen_in_second: Counter[float] = Counter()
    slack_ts = {}
    for row in mine:
        slack_ts[id(row)] = f"{int(row['ts'])}.{seen_in_second[row['ts']]:06d}"
        seen_in_second[row["ts"]] += 1
    root_ts = {row["thread"]: slack_ts[id(row)] for row in mine if row["is_root"]}
    return [
        MessageMeta(
            ts=slack_ts[id(row)],
            thread_ts=root_ts[row["thread"]],
            user_id=row["user"],
            author_kind=AuthorKind(row["role"]),
            posted_at=datetime.fromtimestamp(float(slack_ts[id(row)]), UTC),
        )
        for row in mine
    ]


def plain_figures(rows: list[dict], channel: str, start: float, end: float, as_of: float) -> dict:
    """The definitions of bot/reminders/metrics.py, read literally, on epoch seconds."""
    seen = [r for r in rows if r["channel"] == channel and r["ts"] <= as_of]
    waits, unanswered, came_back = [], 0, 0
    opened = [
        r for r in seen if r["is_root"] and r["role"] == "customer" and start <= r["ts"] < end
    ]
    for root in opened:
        replies = [r for r in seen if r["thread"] == root["thread"] and not r["is_root"]]
        team_times = sorted(r["ts"] for r in replies if r["role"] == "team")
        first = team_times[0] if team_times else None
        if first is not None:
            waits.append(first - root["ts"])
        if (first is None and as_of >= root["ts"] + UNANSWERED_AFTER_SECONDS) or (
            first is not None and first - root["ts"] > UNANSWERED_AFTER_SECONDS
        ):
            unanswered += 1
        later_posts = [
            r
            for r in seen
            if r["user"] == root["user"]
            and r["ts"] - root["ts"] >= COME_BACK_SECONDS
            and (first is None or r["ts"] < first)
            and (r["thread"] == root["thread"] or r["is_root"])
        ]
        came_back += bool(later_posts)
    waits.sort()
    n = len(waits)
    median = None if n == 0 else (waits[(n - 1) // 2] + waits[n // 2]) / 2
    p90 = None if n == 0 else waits[math.ceil(n * 9 / 10) - 1]
    return {
        "threads_opened": len(opened),
        "median_first_response": median,
        "p90_first_response": p90,
        "unanswered": unanswered,
        "repeat_customers": came_back,
    }


def bot_figures(messages: list[MessageMeta], channel: str, day: date, as_of: float) -> dict:
    figures = day_figures(
        channel,
        DayWindow.of(day, ZoneInfo("UTC")),
        messages,
        as_of=datetime.fromtimestamp(as_of, UTC),
        unanswered_after=timedelta(seconds=UNANSWERED_AFTER_SECONDS),
    )

    def seconds(value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()

    return {
        "threads_opened": figures.threads_opened,
        "median_first_response": seconds(figures.median_first_response),
        "p90_first_response": seconds(figures.p90_first_response),
        "unanswered": figures.unanswered,
        "repeat_customers": figures.repeat_customers,
    }


def utc_days(rows: list[dict]) -> list[date]:
    first, last = (datetime.fromtimestamp(f(r["ts"] for r in rows), UTC).date() for f in (min, max))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_bounds(day: date) -> tuple[float, float]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    return start, start + 86400


def test_every_day_of_every_channel_matches_the_plain_reading(rows: list[dict]) -> None:
    end_of_data = max(r["ts"] for r in rows) + 1
    opened = 0
    for channel in sorted({r["channel"] for r in rows}):
        messages = as_messages(rows, channel)
        for day in utc_days(rows):
            expected = plain_figures(rows, channel, *day_bounds(day), as_of=end_of_data)
            found = bot_figures(messages, channel, day, end_of_data)
            assert found == pytest.approx(expected, abs=MICROSECONDS), (channel, day)
            opened += expected["threads_opened"]
    assert opened == len({(r["channel"], r["thread"]) for r in rows})


def test_the_busiest_day_seen_at_two_in_the_night_leaves_young_threads_out(
    rows: list[dict],
) -> None:
    # Most of the day's threads were opened after 22:00: at 02:00 they are younger than 4 hours.
    day = date(2017, 10, 31)
    start, end = day_bounds(day)
    night = end + 2 * 3600
    totals: Counter[str] = Counter()
    for channel in sorted({r["channel"] for r in rows}):
        expected = plain_figures(rows, channel, start, end, as_of=night)
        found = bot_figures(as_messages(rows, channel), channel, day, night)
        assert found == pytest.approx(expected, abs=MICROSECONDS), channel
        totals.update({k: v for k, v in expected.items() if isinstance(v, int)})
    # The day is real and busy: the comparison is not between two empty results.
    assert totals["threads_opened"] > 250
    assert totals["unanswered"] > 0
    assert totals["repeat_customers"] > 0
