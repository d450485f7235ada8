"""The reminder's content: figures against the week before, the most-missed step, the tip."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from bot.reminders.digest import (
    TIP_REPEAT_WINDOW,
    Digest,
    MissedStep,
    Tip,
    build_digest,
    choose_tip,
    load_texts,
    load_tips,
    lowest_step,
)
from bot.reminders.record import record_message
from bot.store.db import Database
from bot.store.models import (
    AuthorKind,
    ChannelSettings,
    Critique,
    DeliveryStatus,
    PracticeSession,
    ReminderDelivery,
    ReminderSchedule,
)

TIPS = [Tip(f"t{n}", f"tip {n}") for n in range(1, 6)]
TODAY = date(2026, 11, 24)  # a Tuesday: figures are about Monday the 23rd
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_tips_rotate_from_the_last_one_used() -> None:
    assert choose_tip(TIPS, [], TODAY).id == "t1"
    assert choose_tip(TIPS, [(TODAY - timedelta(days=1), "t2")], TODAY).id == "t3"
    assert choose_tip(TIPS, [(TODAY - timedelta(days=1), "t5")], TODAY).id == "t1"


def test_a_tip_used_within_30_days_is_passed_over() -> None:
    uses = [(TODAY - timedelta(days=10), "t3"), (TODAY - timedelta(days=1), "t2")]
    assert choose_tip(TIPS, uses, TODAY).id == "t4"
    uses = [(TODAY - TIP_REPEAT_WINDOW, "t3"), (TODAY - timedelta(days=1), "t2")]
    assert choose_tip(TIPS, uses, TODAY).id == "t3"


def test_when_every_tip_was_used_recently_the_least_recent_comes_back() -> None:
    uses = [(TODAY - timedelta(days=n), f"t{n}") for n in range(1, 6)]
    assert choose_tip(TIPS, uses, TODAY).id == "t5"


def test_the_real_tips_do_not_repeat_within_a_month_of_daily_reminders() -> None:
    tips = load_tips()
    assert len(tips) >= 30
    assert len({tip.id for tip in tips}) == len(tips)
    assert all(re.fullmatch(r"[a-z0-9-]{1,64}", tip.id) for tip in tips)  # fits tip_id
    uses: list[tuple[date, str]] = []
    for offset in range(90):
        today = TODAY + timedelta(days=offset)
        recent = [(day, tip_id) for day, tip_id in uses if day > today - TIP_REPEAT_WINDOW]
        uses.append((today, choose_tip(tips, recent, today).id))
    for index, (day, tip_id) in enumerate(uses):
        within_month = [t for d, t in uses[index + 1 :] if d - day < TIP_REPEAT_WINDOW]
        assert tip_id not in within_month


def test_the_texts_cover_every_figure_and_step() -> None:
    texts = load_texts()
    assert texts.question == "How did we make our customers feel yesterday?"
    assert set(texts.steps) == {"apologize", "sympathize", "responsibility", "act"}
    assert set(texts.periods) == {"yesterday", "last_7_days"}
    assert {"threads_opened", "unanswered", "repeat_customers", "practice_sessions"} <= set(
        texts.figures
    )
    assert re.search(r"\{step\}.*\{period\}", texts.most_missed)


def test_lowest_step() -> None:
    assert lowest_step([]) is None
    assert lowest_step([(2, 2, 2, 2)]) is None  # nothing missed
    assert lowest_step([(2, 1, 2, 0), (2, 1, 2, 2)]) == ("sympathize", 1.0)  # tie: earlier step
    assert lowest_step([(1, 2, 2, 2), (0, 2, 2, 1)]) == ("apologize", 0.5)


def _message(db: Database, channel: str, posted: datetime, kind: AuthorKind, root=None) -> None:
    with db.session() as session:
        record_message(
            session,
            team_id="T1",
            channel_id=channel,
            ts=f"{int(posted.timestamp())}.000000",
            thread_ts=None if root is None else f"{int(root.timestamp())}.000000",
            user_id="U1" if kind is AuthorKind.customer else "A1",
            author_kind=kind,
        )


def _critique(db: Database, created: datetime, scores: tuple[int, int, int, int]) -> None:
    apologize, sympathize, responsibility, act = scores
    with db.session() as session:
        session.add(
            Critique(
                team_id="T1",
                channel_id="C-support",
                message_ts=f"{created.timestamp()}",
                engine="offline",
                apologize=apologize,
                sympathize=sympathize,
                responsibility=responsibility,
                act=act,
                overall=3,
                created_at=created,
            )
        )


def _watch(db: Database, *channels: str, unwatched: str = "C-general") -> None:
    with db.session() as session:
        for channel in channels:
            session.add(ChannelSettings(team_id="T1", channel_id=channel, watched=True))
        session.add(ChannelSettings(team_id="T1", channel_id=unwatched, watched=False))


def _digest(db: Database, schedule_id: int = 1) -> Digest:
    with db.session() as session:
        return build_digest(
            session,
            team_id="T1",
            channel_id="C-reminders",
            schedule_id=schedule_id,
            local_date=TODAY,
            timezone="UTC",
            now=NOW,
            unanswered_after=timedelta(hours=4),
        )


def test_yesterday_against_the_same_day_a_week_before(database: Database) -> None:
    _watch(database, "C-support", "C-vip")
    monday, monday_before = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)
    for hour in (9, 10, 11):
        _message(database, "C-support", monday + timedelta(hours=hour), AuthorKind.customer)
        root = monday + timedelta(hours=hour)
        _message(database, "C-support", root + timedelta(minutes=10 * hour), AuthorKind.team, root)
    _message(database, "C-support", monday_before + timedelta(hours=9), AuthorKind.customer)
    _message(database, "C-general", monday + timedelta(hours=9), AuthorKind.customer)
    _critique(database, monday + timedelta(hours=12), (2, 1, 2, 0))
    _critique(database, monday + timedelta(hours=13), (2, 2, 2, 1))
    _critique(database, monday_before + timedelta(hours=12), (0, 0, 0, 0))  # too old to count
    with database.session() as session:
        session.add(
            PracticeSession(
                team_id="T1",
                user_id="U9",
                scenario_id="broken-promise",
                difficulty="normal",
                channel_id="D1",
                engine="offline",
                start_mood=2,
                mood=3,
                started_at=monday + timedelta(hours=15),
            )
        )

    digest = _digest(database)

    assert digest.figures_day == date(2026, 11, 23)
    assert [c.channel_id for c in digest.channels] == ["C-support", "C-vip"]
    support = digest.channels[0]
    assert support.yesterday.threads_opened == 3
    assert support.yesterday.median_first_response == timedelta(minutes=100)
    assert support.yesterday.critiques == 2
    assert support.week_before.threads_opened == 1
    assert support.week_before.unanswered == 1
    assert support.change("threads_opened") == 2
    assert support.change("unanswered") == -1
    assert support.change("median_first_response") is None  # nothing answered a week before
    assert (digest.practice_sessions, digest.practice_sessions_week_before) == (1, 0)
    assert digest.most_missed == MissedStep("act", 0.5, 2, "yesterday")
    assert digest.tip == load_tips()[0]
    assert not digest.quiet


def test_a_day_with_nothing_new_is_quiet_and_looks_back_a_week_for_the_missed_step(
    database: Database,
) -> None:
    _watch(database, "C-support")
    _critique(database, datetime(2026, 11, 18, 12, tzinfo=UTC), (2, 0, 2, 2))
    digest = _digest(database)
    assert digest.quiet
    assert digest.channels[0].yesterday.threads_opened == 0
    assert digest.most_missed == MissedStep("sympathize", 0.0, 1, "last_7_days")


def test_no_watched_channels_and_no_critiques(database: Database) -> None:
    digest = _digest(database)
    assert digest.channels == ()
    assert digest.most_missed is None
    assert digest.quiet


def test_tips_sent_in_another_workspace_do_not_count(database: Database) -> None:
    with database.session() as session:
        other = ReminderSchedule(
            team_id="T2", channel_id="C-other", local_time=time(9), timezone="UTC", weekdays=[1]
        )
        session.add(other)
        session.flush()
        schedule_id = other.id
        session.add(
            ReminderDelivery(
                team_id="T2",
                schedule_id=schedule_id,
                local_date=TODAY - timedelta(days=1),
                due_at=NOW - timedelta(days=1),
                status=DeliveryStatus.sent,
                tip_id=load_tips()[0].id,
            )
        )

    # The same schedule id asked about for T1 (ids are global; the query is scoped anyway).
    assert _digest(database, schedule_id).tip == load_tips()[0]
