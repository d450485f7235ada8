"""The ticks: each runs as soon as a worker starts, then on whole minutes of the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.jobs.queue import JobQueue
from bot.jobs.scheduler import REMINDER_TICK_SECONDS, build_scheduler
from bot.settings import load_settings
from bot.slack.reminders import RemindersDue


def test_the_reminder_tick_runs_at_start_and_then_just_after_each_minute() -> None:
    scheduler = build_scheduler(JobQueue(load_settings(_env_file=None)))
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        ticks = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)

    at_start, every_minute = ticks[f"{RemindersDue.task}:at-start"], ticks[RemindersDue.task]
    assert at_start <= now
    assert every_minute.second == 0 and every_minute.microsecond == 0
    assert now < every_minute <= now + timedelta(seconds=REMINDER_TICK_SECONDS)
