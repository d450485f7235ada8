"""The tick: each reminder is posted once, Slack's rate limits are waited out, a channel that is
gone pauses its schedule, a crash is retried once its lease expires."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.reminders.claims import ClaimedDelivery
from bot.reminders.delivery import (
    QUIET_DAY,
    ChannelGone,
    Outcome,
    RateLimited,
    record_due_reminders,
    run_due_reminders,
    send_workspace_reminders,
)
from bot.reminders.digest import Digest, load_tips
from bot.settings import Settings, load_settings
from bot.store.db import Database
from bot.store.models import DeliveryStatus, ReminderDelivery, ReminderSchedule
from tests.reminders.conftest import AddSchedule

DUE = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


class FakePoster:
    """Answers each post with the next scripted reaction: an exception, or else a ts."""

    def __init__(self, *reactions: Exception) -> None:
        self.reactions = list(reactions)
        self.posts: list[tuple[str, str, Digest]] = []
        self.ts_of: dict[int, str] = {}  # delivery -> its message in Slack
        self.crash_after_posting = False

    def post(self, claim: ClaimedDelivery, digest: Digest) -> str:
        if self.reactions:
            raise self.reactions.pop(0)
        self.posts.append((claim.team_id, claim.channel_id, digest))
        self.ts_of[claim.delivery_id] = f"{1700000000 + len(self.posts)}.000100"
        if self.crash_after_posting:
            raise ConnectionResetError("Slack took it; the answer never came back")
        return self.ts_of[claim.delivery_id]

    def find_posted(self, claim: ClaimedDelivery) -> str | None:
        return self.ts_of.get(claim.delivery_id)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def settings() -> Settings:
    return load_settings(reminder_grace_minutes=120, claim_lease_seconds=300)


def tick(
    db: Database, poster: FakePoster, clock: Clock, settings: Settings, worker: str = "worker-a"
) -> dict[Outcome, int]:
    return dict(run_due_reminders(db, poster, clock, settings, worker_id=worker, sleep=clock.sleep))


def the_delivery(db: Database) -> ReminderDelivery:
    with db.session() as session:
        (delivery,) = session.scalars(select(ReminderDelivery))
        return delivery


def test_a_reminder_is_posted_once_per_day(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster, clock = FakePoster(), Clock(DUE)
    assert tick(database, poster, clock, settings) == {Outcome.sent: 1}
    assert tick(database, poster, clock, settings, worker="worker-b") == {}
    clock.now += timedelta(minutes=30)
    assert tick(database, poster, clock, settings) == {}
    ((team_id, channel_id, digest),) = poster.posts
    assert (team_id, channel_id) == ("T1", "C-reminders")
    delivery = the_delivery(database)
    assert (delivery.status, delivery.message_ts, delivery.tip_id, delivery.sent_at) == (
        DeliveryStatus.sent,
        "1700000001.000100",
        digest.tip.id,
        DUE,
    )

    clock.now += timedelta(days=1)
    assert tick(database, poster, clock, settings) == {Outcome.sent: 1}
    assert [digest.tip.id for *_, digest in poster.posts] == [tip.id for tip in load_tips()[:2]]


def test_a_short_rate_limit_is_waited_out_within_the_tick(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster, clock = FakePoster(RateLimited(3), RateLimited(2)), Clock(DUE)
    assert tick(database, poster, clock, settings) == {Outcome.sent: 1}
    assert clock.slept == [3, 2]
    delivery = the_delivery(database)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.sent, 1)


def test_a_long_rate_limit_keeps_the_claim_until_slack_allows_a_retry(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster, clock = FakePoster(RateLimited(120)), Clock(DUE)
    assert tick(database, poster, clock, settings) == {Outcome.retry_later: 1}
    delivery = the_delivery(database)
    assert (delivery.status, delivery.claimed_by) == (DeliveryStatus.claimed, None)  # given up
    assert delivery.lease_expires_at == DUE + timedelta(seconds=120)
    clock.now += timedelta(seconds=60)
    assert tick(database, poster, clock, settings, worker="worker-b") == {}
    clock.now += timedelta(seconds=60)
    assert tick(database, poster, clock, settings, worker="worker-b") == {Outcome.sent: 1}
    assert len(poster.posts) == 1
    assert the_delivery(database).attempts == 2


def test_a_workspace_sender_sends_its_own_and_stops_when_slack_asks_for_a_long_wait(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    for channel in ("C1", "C2", "C3"):
        add_schedule(channel_id=channel, team_id="T-busy")
    add_schedule(channel_id="C-other", team_id="T-other")
    clock = Clock(DUE)
    assert record_due_reminders(database, clock, settings) == ["T-busy", "T-other"]
    poster = FakePoster(RateLimited(59))

    def send_busy():
        return send_workspace_reminders(
            database, poster, clock, settings, team_id="T-busy", worker_id="w", sleep=clock.sleep
        )

    run = send_busy()
    assert (dict(run.outcomes), run.retry_after, clock.slept) == ({Outcome.retry_later: 1}, 59, [])
    clock.now += timedelta(seconds=59)  # when the queue runs the sender again
    run = send_busy()
    assert (dict(run.outcomes), run.retry_after) == ({Outcome.sent: 3}, None)
    assert sorted(channel for _, channel, _ in poster.posts) == ["C1", "C2", "C3"]
    with database.session() as session:
        other = session.scalars(
            select(ReminderDelivery).where(ReminderDelivery.team_id == "T-other")
        )
        assert [row.status for row in other] == [DeliveryStatus.claimed]  # its own sender's


def test_a_channel_that_is_gone_fails_the_delivery_and_pauses_the_schedule(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    schedule_id = add_schedule()
    poster, clock = FakePoster(ChannelGone("is_archived")), Clock(DUE)
    assert tick(database, poster, clock, settings) == {Outcome.failed: 1}
    delivery = the_delivery(database)
    assert (delivery.status, delivery.error) == (DeliveryStatus.failed, "is_archived")
    with database.session() as session:
        assert session.get(ReminderSchedule, schedule_id).paused_reason == "is_archived"
    clock.now += timedelta(days=1)
    assert tick(database, poster, clock, settings) == {}
    assert poster.posts == []


def test_a_crash_before_sending_is_retried_when_the_lease_expires(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster, clock = FakePoster(RuntimeError("connection reset")), Clock(DUE)
    assert tick(database, poster, clock, settings) == {Outcome.retry_later: 1}
    clock.now += timedelta(seconds=299)
    assert tick(database, poster, clock, settings, worker="worker-b") == {}
    clock.now += timedelta(seconds=1)
    assert tick(database, poster, clock, settings, worker="worker-b") == {Outcome.sent: 1}
    assert the_delivery(database).claimed_by == "worker-b"


def test_a_crash_after_slack_took_the_post_is_not_posted_again(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster, clock = FakePoster(), Clock(DUE)
    poster.crash_after_posting = True
    assert tick(database, poster, clock, settings) == {Outcome.retry_later: 1}
    poster.crash_after_posting = False
    clock.now += timedelta(seconds=300)
    assert tick(database, poster, clock, settings, worker="worker-b") == {Outcome.sent: 1}
    assert len(poster.posts) == 1
    delivery = the_delivery(database)
    assert (delivery.status, delivery.message_ts) == (DeliveryStatus.sent, "1700000001.000100")


def test_down_past_the_grace_period_the_reminder_is_skipped(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule()
    poster = FakePoster()
    late = Clock(DUE + timedelta(minutes=119))
    assert tick(database, poster, late, settings) == {Outcome.sent: 1}  # late, within grace
    too_late = Clock(DUE + timedelta(days=1, minutes=121))
    assert tick(database, poster, too_late, settings) == {}
    with database.session() as session:
        statuses = session.execute(
            select(ReminderDelivery.local_date, ReminderDelivery.status).order_by(
                ReminderDelivery.local_date
            )
        ).all()
    assert [status for _, status in statuses] == [DeliveryStatus.sent, DeliveryStatus.skipped]
    assert len(poster.posts) == 1


def test_quiet_days_are_skipped_only_when_the_admin_asked(
    database: Database, add_schedule: AddSchedule, settings: Settings
) -> None:
    add_schedule(channel_id="C-skips", skip_quiet_days=True)
    add_schedule(channel_id="C-always")
    poster = FakePoster()
    assert tick(database, poster, Clock(DUE), settings) == {Outcome.sent: 1, Outcome.skipped: 1}
    ((_, channel_id, digest),) = poster.posts
    assert (channel_id, digest.quiet) == ("C-always", True)
    with database.session() as session:
        errors = set(session.scalars(select(ReminderDelivery.error)))
    assert errors == {None, QUIET_DAY}


@pytest.mark.parametrize(
    ("day", "ticks_utc", "sent_at_tick"),
    [
        # Spring forward: 02:30 does not exist on 29 March; it fires at 03:30 summer time.
        (date(2026, 3, 29), [time(1, 29), time(1, 30), time(2, 30)], 1),
        # Fall back: 02:30 happens twice on 25 October (00:30 and 01:30 UTC); it fires once.
        (date(2026, 10, 25), [time(0, 29), time(0, 30), time(1, 30)], 1),
    ],
)
def test_berlin_daylight_saving_days_send_exactly_once(
    database: Database,
    add_schedule: AddSchedule,
    settings: Settings,
    day: date,
    ticks_utc: list[time],
    sent_at_tick: int,
) -> None:
    add_schedule(
        local_time=time(2, 30),
        timezone="Europe/Berlin",
        created_at=datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=3),
    )
    poster = FakePoster()
    outcomes = [
        tick(database, poster, Clock(datetime.combine(day, at, tzinfo=UTC)), settings)
        for at in ticks_utc
    ]
    assert outcomes == [{Outcome.sent: 1} if i == sent_at_tick else {} for i in range(3)]
    assert the_delivery(database).local_date == day
