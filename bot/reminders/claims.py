"""The delivery log: each schedule's reminder goes out once per local day, whatever the number
of replicas and restarts.

1. The tick's `record_due_deliveries` inserts one row per schedule and due local date. The
   unique (schedule_id, local_date) turns a second replica's insert into a no-op. A date to send
   is inserted as `claimed` with no owner and an already expired lease, i.e. free to claim; a
   date missed beyond the grace period is inserted as `skipped`. `workspaces_with_free_deliveries`
   then names the workspaces that have something to send.
2. A workspace's sender takes its free rows one by one with `claim_next_delivery` (status
   `claimed`, lease expired), each with a lease for this worker. On PostgreSQL the row is
   selected `FOR UPDATE SKIP LOCKED`, so concurrent senders each take different rows without
   waiting for each other. A worker that crashes between claim and send simply lets its lease
   run out, and the next tick (on any replica) finds the row free again.

Every later change (`mark_sent`, `extend_lease`…) only applies while the row is still claimed by
the same worker, so a worker whose lease ran out can never overwrite the outcome of another.

The only window for a duplicate is a crash after Slack accepted the message and before
`mark_sent` committed; nothing on our side can close it.

SQLite has no row locks: the guarded updates still keep one process from claiming a row twice,
but SQLite deployments are single-replica by design (one process owns the file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.reminders.schedule import ReminderTiming, due_dates
from bot.store.models import DeliveryStatus, ReminderDelivery, ReminderSchedule

logger = logging.getLogger(__name__)

MISSED_WHILE_DOWN = "missed: not sent within the grace period"


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this worker now owns, with what sending it needs."""

    delivery_id: int
    schedule_id: int
    team_id: str
    channel_id: str
    local_date: date
    due_at: datetime
    timezone: str
    skip_quiet_days: bool
    # Taken over from a holder whose lease ran out (a crash, a post that hung): Slack may
    # already have its message.
    unfinished: bool


def timing_of(schedule: ReminderSchedule) -> ReminderTiming:
    return ReminderTiming(schedule.local_time, schedule.timezone, tuple(schedule.weekdays))


def record_due_deliveries(session: Session, now: datetime, grace: timedelta) -> int:
    """Insert the delivery rows of every active schedule that fell due; returns how many."""
    last_dates = dict(
        session.execute(
            select(ReminderDelivery.schedule_id, func.max(ReminderDelivery.local_date)).group_by(
                ReminderDelivery.schedule_id
            )
        ).all()
    )
    schedules = session.scalars(
        select(ReminderSchedule).where(ReminderSchedule.paused_reason.is_(None))
    )
    rows = [
        {
            "team_id": schedule.team_id,
            "schedule_id": schedule.id,
            "local_date": due.local_date,
            "due_at": due.due_at,
            "status": DeliveryStatus.claimed if due.send else DeliveryStatus.skipped,
            "lease_expires_at": now if due.send else None,
            "error": None if due.send else MISSED_WHILE_DOWN,
        }
        for schedule in schedules
        for due in due_dates(
            timing_of(schedule),
            now,
            not_before=schedule.created_at,
            last_local_date=last_dates.get(schedule.id),
            grace=grace,
        )
    ]
    return _insert_unless_present(session, rows) if rows else 0


def _insert_unless_present(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert the rows another replica has not recorded first; returns how many. In batches
    of many rows a statement: a burst of schedules due at once (thousands on the hour) is
    recorded in well under a second."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ReminderDelivery)
        .on_conflict_do_nothing(index_elements=["schedule_id", "local_date"])
        .returning(ReminderDelivery.id)
    )
    return len(session.execute(statement, rows).all())


def workspaces_with_free_deliveries(session: Session, now: datetime) -> list[str]:
    """The workspaces that have a delivery free to claim (the tick queues a sender for each)."""
    return list(
        session.scalars(
            select(ReminderDelivery.team_id)
            .join(ReminderSchedule, ReminderSchedule.id == ReminderDelivery.schedule_id)
            .where(_free(now))
            .group_by(ReminderDelivery.team_id)
            .order_by(func.min(ReminderDelivery.due_at), ReminderDelivery.team_id)
        )
    )


def claim_next_delivery(
    session: Session,
    worker_id: str,
    team_id: str,
    now: datetime,
    *,
    lease: timedelta,
    grace: timedelta,
) -> ClaimedDelivery | None:
    """Lease the workspace's oldest free delivery to `worker_id`, or None when none is left.

    One at a time, so that each lease only has to cover one post. Free deliveries found past the
    grace period are skipped on the way.
    """
    if session.get_bind().dialect.name == "sqlite":
        _note_single_replica()
    while (found := _lock_next_free(session, team_id, now)) is not None:
        delivery, schedule = found
        if now - delivery.due_at <= grace:
            unfinished = delivery.claimed_by is not None
            taken = _take_lease(session, delivery.id, worker_id, now, now + lease)
            return _claimed(delivery, schedule, unfinished) if taken else None
        delivery.status = DeliveryStatus.skipped
        delivery.error = MISSED_WHILE_DOWN
        delivery.claimed_by = None
        session.flush()
    return None


def _free(now: datetime) -> ColumnElement[bool]:
    return and_(
        ReminderDelivery.status == DeliveryStatus.claimed,
        ReminderDelivery.lease_expires_at <= now,
        ReminderSchedule.paused_reason.is_(None),
    )


def _lock_next_free(
    session: Session, team_id: str, now: datetime
) -> tuple[ReminderDelivery, ReminderSchedule] | None:
    row = session.execute(
        select(ReminderDelivery, ReminderSchedule)
        .join(ReminderSchedule, ReminderSchedule.id == ReminderDelivery.schedule_id)
        .where(ReminderDelivery.team_id == team_id, _free(now))
        .order_by(ReminderDelivery.due_at, ReminderDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=ReminderDelivery)
    ).first()
    return None if row is None else (row[0], row[1])


def _take_lease(
    session: Session, delivery_id: int, worker_id: str, now: datetime, until: datetime
) -> bool:
    # Guarded by the same conditions as the select: without row locks (SQLite) this is what
    # keeps two claimers from both taking the row.
    result = session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.id == delivery_id,
            ReminderDelivery.status == DeliveryStatus.claimed,
            ReminderDelivery.lease_expires_at <= now,
        )
        .values(
            claimed_by=worker_id,
            lease_expires_at=until,
            attempts=ReminderDelivery.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _claimed(
    delivery: ReminderDelivery, schedule: ReminderSchedule, unfinished: bool
) -> ClaimedDelivery:
    return ClaimedDelivery(
        delivery_id=delivery.id,
        schedule_id=schedule.id,
        team_id=schedule.team_id,
        channel_id=schedule.channel_id,
        local_date=delivery.local_date,
        due_at=delivery.due_at,
        timezone=schedule.timezone,
        skip_quiet_days=schedule.skip_quiet_days,
        unfinished=unfinished,
    )


@cache
def _note_single_replica() -> None:
    logger.info("reminders on SQLite: claims take no row locks; run a single replica")


def extend_lease(session: Session, delivery_id: int, worker_id: str, until: datetime) -> bool:
    """Keep owning a delivery until `until` (e.g. while Slack asks us to wait)."""
    return _update_own(session, delivery_id, worker_id, lease_expires_at=until)


def release_until(session: Session, delivery_id: int, worker_id: str, until: datetime) -> bool:
    """Give a delivery up, known unposted, to be claimed again from `until` (Slack asked us to
    wait that long): its next claim need not ask Slack whether it was posted."""
    return _update_own(session, delivery_id, worker_id, claimed_by=None, lease_expires_at=until)


def mark_sent(
    session: Session,
    delivery_id: int,
    worker_id: str,
    *,
    message_ts: str,
    tip_id: str,
    now: datetime,
) -> bool:
    return _update_own(
        session,
        delivery_id,
        worker_id,
        status=DeliveryStatus.sent,
        message_ts=message_ts,
        tip_id=tip_id,
        sent_at=now,
        lease_expires_at=None,
    )


def mark_skipped(session: Session, delivery_id: int, worker_id: str, reason: str) -> bool:
    return _update_own(
        session,
        delivery_id,
        worker_id,
        status=DeliveryStatus.skipped,
        error=reason,
        lease_expires_at=None,
    )


def mark_failed_and_pause(
    session: Session, delivery_id: int, worker_id: str, schedule_id: int, reason: str
) -> bool:
    """A permanent failure (channel archived, bot removed): stop trying until an admin acts."""
    if not _update_own(
        session,
        delivery_id,
        worker_id,
        status=DeliveryStatus.failed,
        error=reason[:255],
        lease_expires_at=None,
    ):
        return False
    session.execute(
        update(ReminderSchedule)
        .where(ReminderSchedule.id == schedule_id)
        .values(paused_reason=reason[:255])
        .execution_options(synchronize_session=False)
    )
    return True


def _update_own(session: Session, delivery_id: int, worker_id: str, **values: object) -> bool:
    """Change a delivery only while this worker still holds its claim."""
    result = session.execute(
        update(ReminderDelivery)
        .where(
            ReminderDelivery.id == delivery_id,
            ReminderDelivery.status == DeliveryStatus.claimed,
            ReminderDelivery.claimed_by == worker_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        logger.warning("reminder delivery %s is no longer claimed by %s", delivery_id, worker_id)
    return result.rowcount == 1
