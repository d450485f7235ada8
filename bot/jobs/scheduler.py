"""The ticks: every worker process runs an APScheduler that enqueues the periodic jobs.

It only ticks. What is due and what was done lives in the database (APScheduler's own job stores
pickle state per process), and each tick's job is enqueued with a queueing lock, so with many
workers at most one of each waits in the queue: ticks never pile up behind a slow one.

Every tick runs once at start (a worker started after an outage catches up at once), then on
whole minutes of the clock: reminders are due on the minute, so a tick just after it sends them
without waiting for an interval that began whenever the process did.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs.housekeeping import ProcessedEventsDue, RetentionDue, StalledJobsDue
from bot.jobs.job import Job, QueueUnavailable
from bot.jobs.queue import JobQueue
from bot.slack.practice_end import IdlePracticeDue
from bot.slack.reminders import RemindersDue

logger = logging.getLogger(__name__)

# Reminders are due on the minute; each tick sends what fell due since the last one.
REMINDER_TICK_SECONDS = 60
# Practice inactivity is counted in minutes, so a session times out at most a minute late.
PRACTICE_TICK_SECONDS = 60
PURGE_TICK_SECONDS = 3600
RETENTION_TICK_SECONDS = 6 * 3600  # what expires is forgotten within hours, whenever workers run


def build_scheduler(jobs: JobQueue) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    this_minute = datetime.now(UTC).replace(second=0, microsecond=0)
    ticks: list[tuple[Job, float]] = [
        (RemindersDue(), REMINDER_TICK_SECONDS),
        (IdlePracticeDue(), PRACTICE_TICK_SECONDS),
        (ProcessedEventsDue(), PURGE_TICK_SECONDS),
        (RetentionDue(), RETENTION_TICK_SECONDS),
    ]
    if not jobs.in_process:
        # A lost worker's jobs are found by its missing heartbeats (in process, there is no
        # other worker to lose).
        ticks.append((StalledJobsDue(), jobs.settings.job_heartbeat_seconds))
    for job, seconds in ticks:
        scheduler.add_job(
            enqueue_tick,
            "interval",
            seconds=seconds,
            start_date=this_minute,
            args=[jobs, job],
            id=job.task,
            coalesce=True,
            max_instances=1,
        )
        scheduler.add_job(enqueue_tick, args=[jobs, job], id=f"{job.task}:at-start")
    return scheduler


def enqueue_tick(jobs: JobQueue, job: Job) -> None:
    try:
        jobs.enqueue(job, queueing_lock=job.task)
    except QueueUnavailable:
        logger.warning("could not enqueue the %s tick; the next tick tries again", job.task)
