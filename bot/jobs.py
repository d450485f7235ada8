"""The in-process scheduler. It only ticks: what is due and what was done lives in the database,
so several replicas and restarts agree (APScheduler's own job stores pickle state per process)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.reminders.delivery import ReminderPoster, default_worker_id, run_due_reminders
from bot.services import Services
from bot.slack.clients import ClientForTeam, clients_by_team
from bot.slack.practice import time_out_idle_sessions
from bot.slack.reminders import reminder_poster
from bot.store.base import utcnow
from bot.store.events import purge_processed_events

logger = logging.getLogger(__name__)

# Reminders are due on the minute; each tick sends what fell due since the last one.
REMINDER_TICK_SECONDS = 60
# Practice inactivity is counted in minutes, so a session times out at most a minute late.
PRACTICE_TICK_SECONDS = 60


def build_scheduler(services: Services) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _purge_processed_events,
        "interval",
        hours=1,
        args=[services],
        id="purge-processed-events",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        _send_due_reminders,
        "interval",
        seconds=REMINDER_TICK_SECONDS,
        args=[services, reminder_poster(services.settings, services.db), default_worker_id()],
        id="send-due-reminders",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        _time_out_idle_practice,
        "interval",
        seconds=PRACTICE_TICK_SECONDS,
        # A scorecard has no later tick to be posted in: wait out Slack's rate limits.
        args=[services, practice_clients(services)],
        id="time-out-idle-practice",
        coalesce=True,
        max_instances=1,
    )
    return scheduler


def practice_clients(services: Services) -> ClientForTeam:
    """The clients the practice timeout tick posts scorecards with (429s are retried)."""
    return clients_by_team(services.settings, services.db, retry_rate_limits=True)


def _purge_processed_events(services: Services) -> None:
    with services.db.session() as session:
        removed = purge_processed_events(session, utcnow())
    logger.debug("purged %d processed event ids", removed)


def _send_due_reminders(services: Services, poster: ReminderPoster, worker_id: str) -> None:
    outcomes = run_due_reminders(
        services.db, poster, utcnow, services.settings, worker_id=worker_id
    )
    if outcomes:
        logger.info("reminder tick: %s", dict(outcomes))


def _time_out_idle_practice(services: Services, client_for_team: ClientForTeam) -> None:
    ended = time_out_idle_sessions(services.practice, client_for_team)
    if ended:
        logger.info("timed out %d idle practice sessions", ended)
