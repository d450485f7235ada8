"""When a failed job runs again: only for troubles that pass (Slack rate limits and outages, the
database or the network dropping), with a growing wait, up to the configured attempts. Any other
error is final at once, so the person is told without waiting for retries that cannot help."""

from __future__ import annotations

from procrastinate import BaseRetryStrategy, RetryDecision
from procrastinate.jobs import Job as QueuedJob
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.jobs.job import QueueUnavailable
from bot.slack.errors import ResponseUrlFailed, is_transient, retry_after

FIRST_WAIT_SECONDS = 2.0
LONGEST_WAIT_SECONDS = 300.0


def passing_trouble(error: BaseException) -> bool:
    if isinstance(error, SlackApiError):
        return is_transient(error)
    if isinstance(error, DBAPIError):
        # A dropped connection, a failover, a terminated backend; not a constraint or a bug.
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, ResponseUrlFailed | QueueUnavailable | OSError)


class RetryPassingTroubles(BaseRetryStrategy):
    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def wait_before_retry(self, error: BaseException, attempts: int) -> float | None:
        """Seconds to wait before the next run, or None: the job ends with this error.
        `attempts`: runs before the one that failed."""
        if attempts + 1 >= self.max_attempts or not passing_trouble(error):
            return None
        wait = min(FIRST_WAIT_SECONDS * 2**attempts, LONGEST_WAIT_SECONDS)
        if isinstance(error, SlackApiError | ResponseUrlFailed):
            wait = max(wait, retry_after(error) or 0.0)  # Slack says when it will take it
        return wait

    def get_retry_decision(self, *, exception: BaseException, job: QueuedJob):
        """None: the job ends with this error. Always for a job enqueued under a queueing lock
        (the ticks, the reminder senders): the next job enqueued under that lock does its work,
        and this one going back to waiting beside it would break the lock (procrastinate's
        retry then fails, and the job is left running for good)."""
        if job.queueing_lock is not None:
            return None
        wait = self.wait_before_retry(exception, job.attempts)
        return None if wait is None else RetryDecision(retry_in={"seconds": wait})
