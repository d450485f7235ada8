"""What the daily reminder says, as plain data (METHOD.md §4): the daily question, yesterday's
figures of the watched channels next to the same weekday a week before, the ASAP step the team
missed most in critiques, and one tip from the method. `bot/blocks/reminder.py` renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coaching.critique import STEPS, StepName
from bot.prompt_files import read_toml
from bot.reminders.metrics import (
    ChannelDayFigures,
    DayWindow,
    channel_day_figures,
    practice_sessions_started,
)
from bot.store.models import (
    ChannelSettings,
    Critique,
    DeliveryStatus,
    ReminderDelivery,
)

TIP_REPEAT_WINDOW = timedelta(days=30)
MAX_STEP_SCORE = 2  # the rubric scores each step 0 (missing), 1 (partial) or 2 (done)
Period = Literal["yesterday", "last_7_days"]


@dataclass(frozen=True)
class Tip:
    id: str
    text: str


@dataclass(frozen=True)
class ReminderTexts:
    """The reminder's wording, from prompts/reminders/digest.toml."""

    question: str
    quiet_day: str
    no_channels: str
    practise_button: str
    tip_heading: str
    compared_with: str
    most_missed: str
    periods: dict[str, str]
    steps: dict[str, str]
    figures: dict[str, str]


@dataclass(frozen=True)
class ChannelComparison:
    yesterday: ChannelDayFigures
    week_before: ChannelDayFigures

    @property
    def channel_id(self) -> str:
        return self.yesterday.channel_id

    def change(self, figure: str) -> int | timedelta | None:
        """Yesterday minus the week before for one figure; None when either has no value."""
        now, then = getattr(self.yesterday, figure), getattr(self.week_before, figure)
        return None if now is None or then is None else now - then


@dataclass(frozen=True)
class MissedStep:
    """The ASAP step with the lowest average score, and over which critiques."""

    step: StepName
    average: float
    critiques: int
    period: Period


@dataclass(frozen=True)
class Digest:
    team_id: str
    channel_id: str
    figures_day: date
    texts: ReminderTexts
    channels: tuple[ChannelComparison, ...]
    practice_sessions: int
    practice_sessions_week_before: int
    most_missed: MissedStep | None
    tip: Tip
    unanswered_after: timedelta

    @property
    def quiet(self) -> bool:
        """Nothing new yesterday: no customer thread, no critique, no practice."""
        return self.practice_sessions == 0 and not any(
            comparison.yesterday.has_activity for comparison in self.channels
        )


@cache
def load_tips() -> tuple[Tip, ...]:
    return tuple(
        Tip(id=tip["id"], text=tip["text"]) for tip in read_toml("reminders", "tips.toml")["tips"]
    )


@cache
def load_texts() -> ReminderTexts:
    data = read_toml("reminders", "digest.toml")
    return ReminderTexts(**{field.name: data[field.name] for field in fields(ReminderTexts)})


def choose_tip(tips: Sequence[Tip], recent_uses: Sequence[tuple[date, str]], today: date) -> Tip:
    """The next tip in rotation after the last one used, skipping any used within 30 days.

    `recent_uses` are (local date, tip id) of this schedule's sent reminders. When every tip was
    used within the window (more reminders than tips), the least recently used one is chosen.
    """
    last_use = {tip_id: used_on for used_on, tip_id in sorted(recent_uses)}
    ids = [tip.id for tip in tips]
    latest = max(recent_uses, default=None)
    # A tip id no longer in the file (removed since) restarts the rotation from the top.
    start = ids.index(latest[1]) + 1 if latest and latest[1] in ids else 0
    rotation = [*tips[start:], *tips[:start]]
    for tip in rotation:
        if tip.id not in last_use or today - last_use[tip.id] >= TIP_REPEAT_WINDOW:
            return tip
    return min(rotation, key=lambda tip: last_use[tip.id])


def lowest_step(scores: Sequence[Sequence[int]]) -> tuple[StepName, float] | None:
    """The step with the lowest average over critiques' (apologize, sympathize, responsibility,
    act) scores; ties go to the earlier step, and a perfect record has no lowest step."""
    if not scores:
        return None
    averages = [sum(row[i] for row in scores) / len(scores) for i in range(len(STEPS))]
    lowest = min(range(len(STEPS)), key=lambda i: averages[i])
    if averages[lowest] >= MAX_STEP_SCORE:
        return None
    return STEPS[lowest], averages[lowest]


def build_digest(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    schedule_id: int,
    local_date: date,
    timezone: str,
    now: datetime,
    unanswered_after: timedelta,
) -> Digest:
    """The reminder of `local_date` for one schedule, about the day before in its time zone."""
    zone = ZoneInfo(timezone)
    yesterday = DayWindow.of(local_date - timedelta(days=1), zone)
    week_before = DayWindow.of(yesterday.day - timedelta(days=7), zone)
    channels = tuple(
        ChannelComparison(
            # The week before is seen as it was a week ago, so both days had as long to be
            # answered.
            channel_day_figures(
                session, team_id, watched, yesterday, as_of=now, unanswered_after=unanswered_after
            ),
            channel_day_figures(
                session,
                team_id,
                watched,
                week_before,
                as_of=now - timedelta(days=7),
                unanswered_after=unanswered_after,
            ),
        )
        for watched in _watched_channels(session, team_id)
    )
    return Digest(
        team_id=team_id,
        channel_id=channel_id,
        figures_day=yesterday.day,
        texts=load_texts(),
        channels=channels,
        practice_sessions=practice_sessions_started(session, team_id, yesterday),
        practice_sessions_week_before=practice_sessions_started(session, team_id, week_before),
        most_missed=_most_missed_step(session, team_id, yesterday, zone),
        tip=choose_tip(
            load_tips(), _recent_tips(session, team_id, schedule_id, local_date), local_date
        ),
        unanswered_after=unanswered_after,
    )


def _watched_channels(session: Session, team_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ChannelSettings.channel_id)
            .where(ChannelSettings.team_id == team_id, ChannelSettings.watched.is_(True))
            .order_by(ChannelSettings.channel_id)
        )
    )


def _most_missed_step(
    session: Session, team_id: str, yesterday: DayWindow, zone: ZoneInfo
) -> MissedStep | None:
    """From yesterday's critiques, or the last 7 days' when there were none yesterday."""
    last_week = DayWindow.of(yesterday.day - timedelta(days=6), zone)
    for period, start in (("yesterday", yesterday.start), ("last_7_days", last_week.start)):
        scores = _critique_scores(session, team_id, start, yesterday.end)
        if scores:
            found = lowest_step(scores)
            return MissedStep(*found, len(scores), period) if found else None
    return None


def _critique_scores(
    session: Session, team_id: str, start: datetime, end: datetime
) -> list[tuple[int, int, int, int]]:
    rows = session.execute(
        select(
            Critique.apologize, Critique.sympathize, Critique.responsibility, Critique.act
        ).where(
            Critique.team_id == team_id, Critique.created_at >= start, Critique.created_at < end
        )
    )
    return [tuple(row) for row in rows]


def _recent_tips(
    session: Session, team_id: str, schedule_id: int, today: date
) -> list[tuple[date, str]]:
    rows = session.execute(
        select(ReminderDelivery.local_date, ReminderDelivery.tip_id).where(
            ReminderDelivery.team_id == team_id,
            ReminderDelivery.schedule_id == schedule_id,
            ReminderDelivery.status == DeliveryStatus.sent,
            ReminderDelivery.tip_id.is_not(None),
            ReminderDelivery.local_date > today - TIP_REPEAT_WINDOW,
        )
    )
    return [(used_on, tip_id) for used_on, tip_id in rows]
