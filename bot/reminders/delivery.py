"""The reminder tick: record what fell due, claim it, build the digest, post it, log the outcome.

The scheduler calls `run_due_reminders` every minute or so on every replica; the database decides
who sends what (see `claims`). Posting goes through a `ReminderPoster`, whose Slack
implementation lives with the Slack glue: this package never imports Slack libraries.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.metrics import REMINDERS
from bot.reminders.claims import (
    ClaimedDelivery,
    claim_next_delivery,
    extend_lease,
    mark_failed_and_pause,
    mark_sent,
    mark_skipped,
    record_due_deliveries,
)
from bot.reminders.digest import Digest, build_digest
from bot.settings import Settings
from bot.store.db import Database

logger = logging.getLogger(__name__)

QUIET_DAY = "quiet day: nothing new yesterday"
# Slack's Retry-After is usually a few seconds: wait that inside the tick. A longer wait is left
# to the lease, which then expires when Slack lets us try again and a later tick re-claims it.
MAX_INLINE_WAIT_SECONDS = 30.0
MAX_POSTS_PER_TICK = 3


class RateLimited(Exception):
    """Slack answered 429: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after


class ChannelGone(Exception):
    """The reminder can never be posted there (channel archived, bot removed…)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReminderPoster(Protocol):
    def post(self, team_id: str, channel_id: str, digest: Digest) -> str:
        """Post the reminder and return the message ts; raises RateLimited or ChannelGone."""
        ...


class Outcome(StrEnum):
    sent = "sent"
    skipped = "skipped"
    failed = "failed"
    retry_later = "retry_later"  # still claimed; retried once the lease expires


def default_worker_id() -> str:
    """Names this process in `claimed_by`, so a log line shows which replica holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due_reminders(
    db: Database,
    poster: ReminderPoster,
    clock: Callable[[], datetime],
    settings: Settings,
    *,
    worker_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> Counter[Outcome]:
    """One tick: send every reminder that is due and not yet handled; returns the outcomes."""
    grace = timedelta(minutes=settings.reminder_grace_minutes)
    now = clock()
    with db.session() as session:
        planned = record_due_deliveries(session, now, grace)
    REMINDERS.labels(outcome="planned").inc(planned)
    tick = _Tick(db, poster, clock, settings, worker_id, sleep)
    outcomes: Counter[Outcome] = Counter()
    # Claims are judged against the tick's start: a delivery left to wait (its lease now ends
    # later than that) is not claimed again within the same tick.
    while (claim := tick.claim_next(now, grace)) is not None:
        outcome = tick.deliver_logged(claim)
        outcomes[outcome] += 1
        if outcome is not Outcome.retry_later:
            REMINDERS.labels(outcome=outcome.value).inc()
    return outcomes


@dataclass(frozen=True)
class _Tick:
    db: Database
    poster: ReminderPoster
    clock: Callable[[], datetime]
    settings: Settings
    worker_id: str
    sleep: Callable[[float], None]

    def claim_next(self, now: datetime, grace: timedelta) -> ClaimedDelivery | None:
        with self.db.session() as session:
            return claim_next_delivery(session, self.worker_id, now, lease=self.lease, grace=grace)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claim_lease_seconds)

    def deliver_logged(self, claim: ClaimedDelivery) -> Outcome:
        try:
            outcome = self.deliver(claim)
        except Exception:
            # One broken delivery must not stop the others; its lease expires and it is retried.
            logger.exception("reminder delivery %s failed unexpectedly", claim.delivery_id)
            outcome = Outcome.retry_later
        logger.info(
            "reminder delivery %s for %s/%s on %s: %s",
            claim.delivery_id,
            claim.team_id,
            claim.channel_id,
            claim.local_date,
            outcome,
        )
        return outcome

    def deliver(self, claim: ClaimedDelivery) -> Outcome:
        with self.db.session() as session:
            digest = build_digest(
                session,
                team_id=claim.team_id,
                channel_id=claim.channel_id,
                schedule_id=claim.schedule_id,
                local_date=claim.local_date,
                timezone=claim.timezone,
                now=self.clock(),
                unanswered_after=timedelta(hours=self.settings.unanswered_after_hours),
            )
        if digest.quiet and claim.skip_quiet_days:
            with self.db.session() as session:
                mark_skipped(session, claim.delivery_id, self.worker_id, QUIET_DAY)
            return Outcome.skipped
        return self.post(claim, digest)

    def post(self, claim: ClaimedDelivery, digest: Digest) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            try:
                message_ts = self.poster.post(claim.team_id, claim.channel_id, digest)
            except RateLimited as limited:
                # At least a second: a lease ending at the tick's start would be claimed again
                # within the same tick.
                retry_at = self.clock() + timedelta(seconds=max(limited.retry_after, 1.0))
                if attempt >= MAX_POSTS_PER_TICK or limited.retry_after > MAX_INLINE_WAIT_SECONDS:
                    self._extend_lease(claim, until=retry_at)
                    return Outcome.retry_later
                self._extend_lease(claim, until=retry_at + self.lease)
                self.sleep(limited.retry_after)
                continue
            except ChannelGone as gone:
                with self.db.session() as session:
                    mark_failed_and_pause(
                        session, claim.delivery_id, self.worker_id, claim.schedule_id, gone.reason
                    )
                return Outcome.failed
            with self.db.session() as session:
                mark_sent(
                    session,
                    claim.delivery_id,
                    self.worker_id,
                    message_ts=message_ts,
                    tip_id=digest.tip.id,
                    now=self.clock(),
                )
            return Outcome.sent

    def _extend_lease(self, claim: ClaimedDelivery, *, until: datetime) -> None:
        with self.db.session() as session:
            extend_lease(session, claim.delivery_id, self.worker_id, until)
