"""What the App Home shows: a person's last 30 days, and the admin's overview."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.reminders.progress import admin_overview, user_progress
from bot.reminders.schedule import ReminderTiming
from bot.store.db import Database
from bot.store.models import (
    Critique,
    CritiqueFeedback,
    FeedbackKind,
    PracticeSession,
    PracticeTurn,
    SessionStatus,
    TurnRole,
)
from bot.store.workspaces import set_schedule, watch_channel

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def add_session(database: Database, user: str, days_ago: int, scores: list[dict]) -> None:
    started = NOW - timedelta(days=days_ago)
    with database.session() as session:
        practice = PracticeSession(
            team_id="T1",
            user_id=user,
            scenario_id=f"scenario-{days_ago}",
            difficulty="upset",
            channel_id=f"D-{user}",
            thread_ts=f"{days_ago}.0",
            engine="offline",
            start_mood=2,
            mood=3,
            started_at=started,
            status=SessionStatus.satisfied,  # one active session per person at most
        )
        session.add(practice)
        session.flush()
        for position, step_scores in enumerate(scores):
            session.add(
                PracticeTurn(
                    team_id="T1",
                    session_id=practice.id,
                    position=position,
                    role=TurnRole.agent if step_scores else TurnRole.customer,
                    text="…",
                    mood_after=3,
                    step_scores=step_scores or None,
                    created_at=started,
                )
            )


def scores(apologize: int, sympathize: int, responsibility: int, act: int) -> dict[str, int]:
    return {
        "apologize": apologize,
        "sympathize": sympathize,
        "responsibility": responsibility,
        "act": act,
    }


def test_trends_compare_the_older_and_the_recent_half_of_30_days(database: Database) -> None:
    add_session(database, "U1", 40, [scores(0, 0, 0, 0)])  # outside the window
    add_session(database, "U1", 20, [{}, scores(1, 0, 2, 2), scores(1, 1, 2, 2)])
    add_session(database, "U1", 2, [scores(2, 1, 2, 2)])
    add_session(database, "U2", 2, [scores(0, 0, 0, 0)])  # someone else

    with database.session() as session:
        progress = user_progress(session, "T1", "U1", NOW)

    assert [s.scenario_id for s in progress.sessions] == ["scenario-2", "scenario-20"]
    assert [(t.step, t.earlier, t.recent) for t in progress.trends] == [
        ("apologize", 1.0, 2.0),
        ("sympathize", 0.5, 1.0),
        ("responsibility", 2.0, 2.0),
        ("act", 2.0, 2.0),
    ]
    assert progress.weakest_step == "sympathize"


def test_nobody_has_a_trend_or_weak_step_before_practising(database: Database) -> None:
    with database.session() as session:
        progress = user_progress(session, "T1", "U1", NOW)
    assert (progress.sessions, progress.trends, progress.weakest_step) == ((), (), None)


def test_critiques_received_and_disputes(database: Database) -> None:
    with database.session() as session:
        critique = Critique(
            team_id="T1",
            channel_id="C1",
            message_ts="1.1",
            author_user_id="U1",
            engine="offline",
            apologize=2,
            sympathize=0,
            responsibility=1,
            act=2,
            overall=1,
            created_at=NOW - timedelta(days=1),
        )
        session.add(critique)
        session.flush()
        for kind, comment in ((FeedbackKind.useful, None), (FeedbackKind.dispute, "unfair")):
            session.add(
                CritiqueFeedback(
                    team_id="T1", critique_id=critique.id, user_id="U1", kind=kind, comment=comment
                )
            )
        watch_channel(session, "T1", "C1", NOW)
        timing = ReminderTiming(time(9, 30), "UTC", (1, 2, 3, 4, 5))
        set_schedule(
            session,
            "T1",
            "C1",
            local_time=timing.local_time,
            timezone=timing.timezone,
            weekdays=timing.weekdays,
            skip_quiet_days=True,
            created_by="U9",
        )

    with database.session() as session:
        progress = user_progress(session, "T1", "U1", NOW)
        overview = admin_overview(session, "T1")

    [received] = progress.critiques
    assert (received.channel_id, received.scores) == ("C1", (2, 0, 1, 2))
    assert overview.watched_channels == ("C1",)
    [schedule] = overview.schedules
    assert (schedule.channel_id, schedule.skip_quiet_days, schedule.paused_reason) == (
        "C1",
        True,
        None,
    )
    [dispute] = overview.disputes.open  # the dispute, not the rating
    assert (dispute.user_id, dispute.comment, dispute.message_ts) == ("U1", "unfair", "1.1")
    assert dispute.scores == {"apologize": 2, "sympathize": 0, "responsibility": 1, "act": 2}
