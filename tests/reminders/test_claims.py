"""The delivery log: every schedule's reminder is claimed once per local day, across replicas."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.reminders.claims import (
    MISSED_WHILE_DOWN,
    claim_next_delivery,
    mark_failed_and_pause,
    mark_sent,
    record_due_deliveries,
)
from bot.store.db import Database
from bot.store.models import DeliveryStatus, ReminderDelivery, ReminderSchedule
from tests.reminders.conftest import AddSchedule

NOW = datetime(2026, 11, 23, 9, 31, tzinfo=UTC)
LEASE = timedelta(minutes=5)
GRACE = timedelta(hours=2)


def record_and_claim(db: Database, worker: str, now: datetime = NOW) -> list[int]:
    with db.session() as session:
        record_due_deliveries(session, now, GRACE)
    claimed = []
    while True:
        with db.session() as session:
            claim = claim_next_delivery(session, worker, "T1", now, lease=LEASE, grace=GRACE)
        if claim is None:
            return claimed
        claimed.append(claim.delivery_id)


def deliveries(db: Database) -> list[ReminderDelivery]:
    with db.session() as session:
        return list(session.scalars(select(ReminderDelivery).order_by(ReminderDelivery.id)))


def test_a_due_reminder_is_recorded_once_and_claimed_once(
    database: Database, add_schedule: AddSchedule
) -> None:
    add_schedule(created_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert len(record_and_claim(database, "worker-a")) == 1
    assert record_and_claim(database, "worker-b") == []
    (delivery,) = deliveries(database)
    assert (delivery.local_date, delivery.status, delivery.claimed_by, delivery.attempts) == (
        date(2026, 11, 23),
        DeliveryStatus.claimed,
        "worker-a",
        1,
    )
    assert delivery.lease_expires_at == NOW + LEASE


def test_days_missed_while_down_are_recorded_as_skipped(
    database: Database, add_schedule: AddSchedule
) -> None:
    add_schedule(created_at=datetime(2026, 11, 20, 8, tzinfo=UTC))
    record_and_claim(database, "worker-a")
    assert [(d.local_date.day, d.status, d.error) for d in deliveries(database)] == [
        (20, DeliveryStatus.skipped, MISSED_WHILE_DOWN),
        (21, DeliveryStatus.skipped, MISSED_WHILE_DOWN),
        (22, DeliveryStatus.skipped, MISSED_WHILE_DOWN),
        (23, DeliveryStatus.claimed, None),
    ]


def test_an_unexpired_lease_is_kept_and_an_expired_one_is_claimed_again(
    database: Database, add_schedule: AddSchedule
) -> None:
    add_schedule(created_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    (delivery_id,) = record_and_claim(database, "crashed-worker")
    assert record_and_claim(database, "worker-b", NOW + LEASE - timedelta(seconds=1)) == []
    assert record_and_claim(database, "worker-b", NOW + LEASE) == [delivery_id]
    (delivery,) = deliveries(database)
    assert (delivery.claimed_by, delivery.attempts) == ("worker-b", 2)
    # The worker that lost its lease cannot record an outcome over the new owner's claim.
    with database.session() as session:
        assert not mark_sent(
            session, delivery_id, "crashed-worker", message_ts="1.0", tip_id="t", now=NOW
        )
        assert mark_sent(session, delivery_id, "worker-b", message_ts="2.0", tip_id="t", now=NOW)
    assert deliveries(database)[0].message_ts == "2.0"


def test_an_expired_claim_past_the_grace_period_is_skipped(
    database: Database, add_schedule: AddSchedule
) -> None:
    add_schedule(created_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    record_and_claim(database, "crashed-worker")
    assert record_and_claim(database, "worker-b", NOW + GRACE) == []
    (delivery,) = deliveries(database)
    assert (delivery.status, delivery.error) == (DeliveryStatus.skipped, MISSED_WHILE_DOWN)


def test_a_permanent_failure_pauses_the_schedule(
    database: Database, add_schedule: AddSchedule
) -> None:
    schedule_id = add_schedule(created_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    (delivery_id,) = record_and_claim(database, "worker-a")
    with database.session() as session:
        assert mark_failed_and_pause(session, delivery_id, "worker-a", schedule_id, "is_archived")
    (delivery,) = deliveries(database)
    assert (delivery.status, delivery.error) == (DeliveryStatus.failed, "is_archived")
    with database.session() as session:
        assert session.get(ReminderSchedule, schedule_id).paused_reason == "is_archived"
    assert record_and_claim(database, "worker-a", NOW + timedelta(days=1)) == []
    assert len(deliveries(database)) == 1


@pytest.fixture
def second_replica(database_url: str, backend: str) -> Iterator[Database]:
    if backend == "sqlite":
        pytest.skip("SQLite deployments are single-replica: no concurrent claimers to test")
    replica = Database(database_url)
    yield replica
    replica.dispose()


def test_a_claim_in_progress_is_skipped_not_waited_for(
    database: Database, second_replica: Database, add_schedule: AddSchedule
) -> None:
    add_schedule(created_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    with database.session() as session:
        record_due_deliveries(session, NOW, GRACE)
    with database.session() as session:
        assert claim_next_delivery(session, "worker-a", "T1", NOW, lease=LEASE, grace=GRACE)
        # Worker A has not committed: its row is locked. B must skip it, not block on it.
        with second_replica.session() as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            assert (
                claim_next_delivery(other, "worker-b", "T1", NOW, lease=LEASE, grace=GRACE) is None
            )
    assert record_and_claim(second_replica, "worker-b") == []


def test_concurrent_replicas_claim_each_delivery_exactly_once(
    database: Database, second_replica: Database, add_schedule: AddSchedule
) -> None:
    schedule_count = 40
    for number in range(schedule_count):
        add_schedule(channel_id=f"C{number:03d}", created_at=datetime(2026, 11, 23, tzinfo=UTC))
    replicas = {"worker-a": database, "worker-b": second_replica}
    start = threading.Barrier(len(replicas))
    claimed: dict[str, list[int]] = {worker: [] for worker in replicas}
    errors: list[BaseException] = []

    def replica(worker: str) -> None:
        try:
            start.wait(timeout=10)
            claimed[worker] += record_and_claim(replicas[worker], worker)
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=replica, args=(worker,)) for worker in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    all_claims = claimed["worker-a"] + claimed["worker-b"]
    assert sorted(all_claims) == sorted(set(all_claims))
    rows = deliveries(database)
    assert len(rows) == len(all_claims) == schedule_count
    assert all(row.attempts == 1 for row in rows)
    owners = {delivery_id: worker for worker, ids in claimed.items() for delivery_id in ids}
    assert {row.id: row.claimed_by for row in rows} == owners
