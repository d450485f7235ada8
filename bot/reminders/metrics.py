"""How a support channel treated its customers on one day, from message metadata only.

Definitions (all figures are about the *customer threads opened that day*, so that a day's
figures describe one cohort of customers and are comparable with the same day a week earlier):

- **Customer thread**: a thread whose root message was posted by a customer (AuthorKind.customer)
  and is not deleted. Threads started by the team or by a bot are not customer threads.
- **First team response**: the earliest non-deleted team message in the thread after the root.
  Bot messages are neither customer nor team: an auto-reply is not a response. Edits change
  nothing (a message counts from when it was posted).
- **Median / p90 time to first response**: over the day's threads that had a team response by
  `as_of`; p90 uses the nearest-rank method (the smallest value at or above 90 % of them).
- **Unanswered**: no team response within `unanswered_after` of the root. A thread still
  younger than that at `as_of` is not counted yet (it may still be answered in time).
- **Repeat customer** (cause 6, "the same issue keeps happening"): the root's author posted
  again, at least COME_BACK_AFTER after the root and before any team response, either in the
  same thread or as the root of a new thread in the channel. A follow-up within minutes is the
  customer finishing their thought, not coming back.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import AuthorKind, ChannelMessage, Critique, PracticeSession

COME_BACK_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class MessageMeta:
    """What the figures need to know about one message."""

    ts: str
    thread_ts: str
    user_id: str | None
    author_kind: AuthorKind
    posted_at: datetime
    deleted: bool = False

    @property
    def is_root(self) -> bool:
        return self.ts == self.thread_ts

    @classmethod
    def from_row(cls, row: ChannelMessage) -> MessageMeta:
        return cls(
            ts=row.ts,
            thread_ts=row.thread_ts,
            user_id=row.user_id,
            author_kind=row.author_kind,
            posted_at=row.posted_at,
            deleted=row.deleted_at is not None,
        )


@dataclass(frozen=True)
class ChannelDayFigures:
    channel_id: str
    day: date
    threads_opened: int
    median_first_response: timedelta | None
    p90_first_response: timedelta | None
    unanswered: int
    repeat_customers: int
    critiques: int = 0

    @property
    def has_activity(self) -> bool:
        return self.threads_opened > 0 or self.critiques > 0


@dataclass(frozen=True)
class DayWindow:
    """One local calendar day as a half-open UTC interval [start, end)."""

    day: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, zone: ZoneInfo) -> DayWindow:
        # Where daylight saving time starts at midnight (e.g. America/Havana) fold=0 maps the
        # missing midnight to the instant of the change, which is where that day begins.
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return cls(day, start, end)


def day_figures(
    channel_id: str,
    window: DayWindow,
    messages: Iterable[MessageMeta],
    *,
    as_of: datetime,
    unanswered_after: timedelta,
    critiques: int = 0,
) -> ChannelDayFigures:
    """The figures of the customer threads opened in `window`, seen as of `as_of`."""
    visible = sorted((m for m in messages if m.posted_at <= as_of), key=lambda m: m.posted_at)
    threads: dict[str, list[MessageMeta]] = defaultdict(list)
    for message in visible:
        threads[message.thread_ts].append(message)
    roots = [
        m
        for m in visible
        if m.is_root
        and m.author_kind is AuthorKind.customer
        and not m.deleted
        and window.start <= m.posted_at < window.end
    ]
    waits: list[timedelta] = []
    unanswered = repeat_customers = 0
    for root in roots:
        response_at = _first_team_response_at(threads[root.thread_ts])
        if response_at is not None:
            waits.append(response_at - root.posted_at)
        if _is_unanswered(root, response_at, as_of, unanswered_after):
            unanswered += 1
        if _customer_came_back(root, response_at, visible):
            repeat_customers += 1
    return ChannelDayFigures(
        channel_id=channel_id,
        day=window.day,
        threads_opened=len(roots),
        median_first_response=_median(waits),
        p90_first_response=_nearest_rank(waits, 0.9),
        unanswered=unanswered,
        repeat_customers=repeat_customers,
        critiques=critiques,
    )


def _first_team_response_at(thread: Sequence[MessageMeta]) -> datetime | None:
    return next(
        (m.posted_at for m in thread[1:] if m.author_kind is AuthorKind.team and not m.deleted),
        None,
    )


def _is_unanswered(
    root: MessageMeta, response_at: datetime | None, as_of: datetime, limit: timedelta
) -> bool:
    deadline = root.posted_at + limit
    if response_at is not None:
        return response_at > deadline
    return as_of >= deadline


def _customer_came_back(
    root: MessageMeta, response_at: datetime | None, channel: Sequence[MessageMeta]
) -> bool:
    if root.user_id is None:
        return False
    earliest = root.posted_at + COME_BACK_AFTER
    return any(
        m.user_id == root.user_id
        and m.author_kind is AuthorKind.customer
        and not m.deleted
        and m.posted_at >= earliest
        and (response_at is None or m.posted_at < response_at)
        and (m.thread_ts == root.thread_ts or m.is_root)
        for m in channel
    )


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _nearest_rank(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(fraction * len(ordered)) - 1]


def channel_day_figures(
    session: Session,
    team_id: str,
    channel_id: str,
    window: DayWindow,
    *,
    as_of: datetime,
    unanswered_after: timedelta,
) -> ChannelDayFigures:
    """`day_figures` of one channel, read from the database."""
    # Everything a day's threads can involve was posted between the day's start and `as_of`.
    rows = session.scalars(
        select(ChannelMessage).where(
            ChannelMessage.team_id == team_id,
            ChannelMessage.channel_id == channel_id,
            ChannelMessage.posted_at >= window.start,
            ChannelMessage.posted_at <= as_of,
        )
    )
    critiques = session.scalar(
        select(func.count()).where(
            Critique.team_id == team_id,
            Critique.channel_id == channel_id,
            Critique.created_at >= window.start,
            Critique.created_at < window.end,
        )
    )
    return day_figures(
        channel_id,
        window,
        [MessageMeta.from_row(row) for row in rows],
        as_of=as_of,
        unanswered_after=unanswered_after,
        critiques=critiques or 0,
    )


def practice_sessions_started(session: Session, team_id: str, window: DayWindow) -> int:
    count = session.scalar(
        select(func.count()).where(
            PracticeSession.team_id == team_id,
            PracticeSession.started_at >= window.start,
            PracticeSession.started_at < window.end,
        )
    )
    return count or 0
