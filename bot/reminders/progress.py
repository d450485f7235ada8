"""What the App Home shows, as plain data for `bot/blocks/home.py`: a person's practice and
critiques of the last 30 days, and for admins the channel settings and the disputed critiques
(`bot/coaching/disputes.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coaching.critique import STEPS, StepName
from bot.coaching.disputes import DisputeOverview, dispute_overview
from bot.reminders.digest import lowest_step
from bot.store.models import (
    ChannelSettings,
    Critique,
    PracticeSession,
    PracticeTurn,
    ReminderSchedule,
    SessionStatus,
    TurnRole,
)

PROGRESS_WINDOW = timedelta(days=30)
# The trend compares the older half of the window with the recent half.
RECENT_HALF = PROGRESS_WINDOW / 2
SHOWN_SESSIONS = 10
SHOWN_CRITIQUES = 5


@dataclass(frozen=True)
class PracticeSummary:
    scenario_id: str
    started_on: date
    status: SessionStatus


@dataclass(frozen=True)
class StepTrend:
    """Average step score (0 to 2) of practice replies, older half vs recent half of the window."""

    step: StepName
    earlier: float | None
    recent: float | None


@dataclass(frozen=True)
class CritiqueSummary:
    channel_id: str
    message_ts: str
    created_on: date
    scores: tuple[int, int, int, int]  # apologize, sympathize, responsibility, act


@dataclass(frozen=True)
class UserProgress:
    sessions: tuple[PracticeSummary, ...]
    trends: tuple[StepTrend, ...]  # empty when the person has not practised in the window
    weakest_step: StepName | None
    critiques: tuple[CritiqueSummary, ...]


@dataclass(frozen=True)
class ScheduleSummary:
    channel_id: str
    local_time: time
    timezone: str
    weekdays: tuple[int, ...]
    skip_quiet_days: bool
    paused_reason: str | None


@dataclass(frozen=True)
class AdminOverview:
    team_id: str
    watched_channels: tuple[str, ...]
    schedules: tuple[ScheduleSummary, ...]
    disputes: DisputeOverview


def user_progress(session: Session, team_id: str, user_id: str, now: datetime) -> UserProgress:
    since = now - PROGRESS_WINDOW
    scored = _practice_step_scores(session, team_id, user_id, since)
    weakest = lowest_step([scores for _, scores in scored])
    return UserProgress(
        sessions=_recent_sessions(session, team_id, user_id, since),
        trends=_trends(scored, now - RECENT_HALF) if scored else (),
        weakest_step=weakest[0] if weakest else None,
        critiques=_critiques_received(session, team_id, user_id, since),
    )


def _recent_sessions(
    session: Session, team_id: str, user_id: str, since: datetime
) -> tuple[PracticeSummary, ...]:
    rows = session.scalars(
        select(PracticeSession)
        .where(
            PracticeSession.team_id == team_id,
            PracticeSession.user_id == user_id,
            PracticeSession.started_at >= since,
        )
        .order_by(PracticeSession.started_at.desc())
        .limit(SHOWN_SESSIONS)
    )
    return tuple(PracticeSummary(r.scenario_id, r.started_at.date(), r.status) for r in rows)


def _practice_step_scores(
    session: Session, team_id: str, user_id: str, since: datetime
) -> list[tuple[datetime, tuple[int, ...]]]:
    """(when, scores per step) of each of the person's scored practice replies."""
    rows = session.execute(
        select(PracticeTurn.created_at, PracticeTurn.step_scores)
        .join(PracticeSession, PracticeTurn.session_id == PracticeSession.id)
        .where(
            PracticeSession.team_id == team_id,
            PracticeSession.user_id == user_id,
            PracticeTurn.role == TurnRole.agent,
            PracticeTurn.created_at >= since,
        )
    )
    return [
        (created_at, tuple(scores.get(step, 0) for step in STEPS))
        for created_at, scores in rows
        if scores
    ]


def _trends(
    scored: Sequence[tuple[datetime, tuple[int, ...]]], recent_from: datetime
) -> tuple[StepTrend, ...]:
    earlier = [scores for when, scores in scored if when < recent_from]
    recent = [scores for when, scores in scored if when >= recent_from]
    return tuple(
        StepTrend(step, _average(earlier, index), _average(recent, index))
        for index, step in enumerate(STEPS)
    )


def _average(rows: Sequence[tuple[int, ...]], index: int) -> float | None:
    return sum(row[index] for row in rows) / len(rows) if rows else None


def _critiques_received(
    session: Session, team_id: str, user_id: str, since: datetime
) -> tuple[CritiqueSummary, ...]:
    rows = session.scalars(
        select(Critique)
        .where(
            Critique.team_id == team_id,
            Critique.author_user_id == user_id,
            Critique.created_at >= since,
        )
        .order_by(Critique.created_at.desc())
        .limit(SHOWN_CRITIQUES)
    )
    return tuple(
        CritiqueSummary(
            r.channel_id,
            r.message_ts,
            r.created_at.date(),
            (r.apologize, r.sympathize, r.responsibility, r.act),
        )
        for r in rows
    )


def admin_overview(session: Session, team_id: str) -> AdminOverview:
    watched = session.scalars(
        select(ChannelSettings.channel_id)
        .where(ChannelSettings.team_id == team_id, ChannelSettings.watched.is_(True))
        .order_by(ChannelSettings.channel_id)
    )
    schedules = session.scalars(
        select(ReminderSchedule)
        .where(ReminderSchedule.team_id == team_id)
        .order_by(ReminderSchedule.channel_id)
    )
    return AdminOverview(
        team_id=team_id,
        watched_channels=tuple(watched),
        schedules=tuple(
            ScheduleSummary(
                s.channel_id,
                s.local_time,
                s.timezone,
                tuple(s.weekdays),
                s.skip_quiet_days,
                s.paused_reason,
            )
            for s in schedules
        ),
        disputes=dispute_overview(session, team_id),
    )
