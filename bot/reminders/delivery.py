"""The daily reminders: the tick records what fell due and names the workspaces with something
to send; each workspace's sender claims its deliveries, builds each digest, posts it and logs
the outcome.

The scheduler runs the tick every minute on every replica, and the job queue runs one sender per
workspace at a time (different workspaces at once); the database decides who sends what (see
`claims`). Posting goes through a `ReminderPoster`, whose Slack implementation lives with the
Slack glue: this package never imports Slack libraries.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from bot.metrics import REMINDERS
from bot.reminders.claims import (
    ClaimedDelivery,
    claim_next_delivery,
    extend_lease,
    mark_failed_and_pause,
    mark_sent,
    mark_skipped,
    record_due_deliveries,
    release_until,
    workspaces_with_free_deliveries,
)
from bot.reminders.digest import Digest, build_digest
from bot.settings import Settings
from bot.store.db import Database

logger = logging.getLogger(__name__)

QUIET_DAY = "quiet day: nothing new yesterday"
# Slack's Retry-After is usually a second or two: the sender waits that out. A longer wait
# would hold a worker slot that other workspaces need: the sender stops, the delivery is free
# again when Slack lets us try again, and the sender runs again then.
MAX_INLINE_WAIT_SECONDS = 5.0
MAX_POSTS_PER_DELIVERY = 3


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
    def post(self, claim: ClaimedDelivery, digest: Digest) -> str:
        """Post the reminder, marked with its delivery, and return the message ts; raises
        RateLimited or ChannelGone."""
        ...

    def find_posted(self, claim: ClaimedDelivery) -> str | None:
        """The ts of the message already posted for this delivery since it was due, if any;
        raises RateLimited or ChannelGone."""
        ...


class Outcome(StrEnum):
    sent = "sent"
    skipped = "skipped"
    failed = "failed"
    retry_later = "retry_later"  # still claimed; free again once the lease expires


@dataclass
class WorkspaceRun:
    """What one run of a workspace's sender did, and when to run it again if Slack said."""

    outcomes: Counter[Outcome] = field(default_factory=Counter)
    retry_after: float | None = None


def default_worker_id() -> str:
    """Names this process in `claimed_by`, so a log line shows which replica holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


def record_due_reminders(
    db: Database, clock: Callable[[], datetime], settings: Settings
) -> list[str]:
    """The tick: record every delivery that fell due; returns the workspaces with deliveries
    free to send, oldest due first."""
    now = clock()
    with db.session() as session:
        planned = record_due_deliveries(session, now, _grace(settings))
    REMINDERS.labels(outcome="planned").inc(planned)
    with db.session() as session:
        return workspaces_with_free_deliveries(session, now)


def send_workspace_reminders(
    db: Database,
    poster: ReminderPoster,
    clock: Callable[[], datetime],
    settings: Settings,
    *,
    team_id: str,
    worker_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> WorkspaceRun:
    """Send the workspace's free deliveries one by one, until none is left or Slack asks for a
    longer wait (`retry_after`: that delivery is free again then)."""
    now, grace = clock(), _grace(settings)
    sender = _Sender(db, poster, clock, settings, worker_id, sleep)
    run = WorkspaceRun()
    # Claims are judged against the run's start: a delivery left to wait (its lease now ends
    # later than that) is not claimed again within the same run.
    while (claim := sender.claim_next(team_id, now, grace)) is not None:
        try:
            outcome = sender.deliver_logged(claim)
        except RateLimited as limited:
            run.outcomes[Outcome.retry_later] += 1
            run.retry_after = limited.retry_after
            break
        run.outcomes[outcome] += 1
        if outcome is not Outcome.retry_later:
            REMINDERS.labels(outcome=outcome.value).inc()
    return run


def run_due_reminders(
    db: Database,
    poster: ReminderPoster,
    clock: Callable[[], datetime],
    settings: Settings,
    *,
    worker_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> Counter[Outcome]:
    """The tick and every workspace's sender in turn, in this thread (the sandbox's reminder
    button; tests with their own clock); returns the outcomes."""
    outcomes: Counter[Outcome] = Counter()
    for team_id in record_due_reminders(db, clock, settings):
        run = send_workspace_reminders(
            db, poster, clock, settings, team_id=team_id, worker_id=worker_id, sleep=sleep
        )
        outcomes += run.outcomes
    return outcomes


def claimed_digest(
    session: Session, claim: ClaimedDelivery, now: datetime, unanswered_after: timedelta
) -> Digest:
    """The reminder a claimed delivery posts."""
    return build_digest(
        session,
        team_id=claim.team_id,
        channel_id=claim.channel_id,
        schedule_id=claim.schedule_id,
        local_date=claim.local_date,
        timezone=claim.timezone,
        now=now,
        unanswered_after=unanswered_after,
    )


def _grace(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.reminder_grace_minutes)


@dataclass(frozen=True)
class _Sender:
    db: Database
    poster: ReminderPoster
    clock: Callable[[], datetime]
    settings: Settings
    worker_id: str
    sleep: Callable[[float], None]

    def claim_next(self, team_id: str, now: datetime, grace: timedelta) -> ClaimedDelivery | None:
        with self.db.session() as session:
            return claim_next_delivery(
                session, self.worker_id, team_id, now, lease=self.lease, grace=grace
            )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claim_lease_seconds)

    def deliver_logged(self, claim: ClaimedDelivery) -> Outcome:
        """The outcome; raises RateLimited when Slack asked for a longer wait."""
        try:
            outcome = self.deliver(claim)
        except RateLimited:
            self._log(claim, Outcome.retry_later)
            raise
        except Exception:
            # One broken delivery must not stop the others; its lease expires and it is retried.
            logger.exception("reminder delivery %s failed unexpectedly", claim.delivery_id)
            outcome = Outcome.retry_later
        self._log(claim, outcome)
        return outcome

    def _log(self, claim: ClaimedDelivery, outcome: Outcome) -> None:
        logger.info(
            "reminder delivery %s for %s/%s on %s: %s",
            claim.delivery_id,
            claim.team_id,
            claim.channel_id,
            claim.local_date,
            outcome,
        )

    def deliver(self, claim: ClaimedDelivery) -> Outcome:
        with self.db.session() as session:
            unanswered_after = timedelta(hours=self.settings.unanswered_after_hours)
            digest = claimed_digest(session, claim, self.clock(), unanswered_after)
        if digest.quiet and claim.skip_quiet_days:
            with self.db.session() as session:
                mark_skipped(session, claim.delivery_id, self.worker_id, QUIET_DAY)
            return Outcome.skipped
        # The previous holder may have crashed after Slack took its post and before it could
        # record it: the message is looked for rather than posted twice.
        if claim.unfinished and (message_ts := self.poster.find_posted(claim)) is not None:
            return self._mark_sent(claim, digest, message_ts)
        return self.post(claim, digest)

    def post(self, claim: ClaimedDelivery, digest: Digest) -> Outcome:
        attempt = 0
        while True:
            attempt += 1
            try:
                message_ts = self.poster.post(claim, digest)
            except RateLimited as limited:
                # At least a second: a lease ending at the run's start would be claimed again
                # within the same run.
                wait = max(limited.retry_after, 1.0)
                retry_at = self.clock() + timedelta(seconds=wait)
                if attempt >= MAX_POSTS_PER_DELIVERY or wait > MAX_INLINE_WAIT_SECONDS:
                    with self.db.session() as session:
                        release_until(session, claim.delivery_id, self.worker_id, retry_at)
                    raise RateLimited(wait) from limited
                self._extend_lease(claim, until=retry_at + self.lease)
                self.sleep(limited.retry_after)
                continue
            except ChannelGone as gone:
                with self.db.session() as session:
                    mark_failed_and_pause(
                        session, claim.delivery_id, self.worker_id, claim.schedule_id, gone.reason
                    )
                return Outcome.failed
            return self._mark_sent(claim, digest, message_ts)

    def _mark_sent(self, claim: ClaimedDelivery, digest: Digest, message_ts: str) -> Outcome:
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
