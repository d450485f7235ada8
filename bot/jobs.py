"""The in-process scheduler. It only ticks: what is due and what was done lives in the database,
so several replicas and restarts agree (APScheduler's own job stores pickle state per process)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services import Services
from bot.store.base import utcnow
from bot.store.events import purge_processed_events

logger = logging.getLogger(__name__)


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
    return scheduler


def _purge_processed_events(services: Services) -> None:
    with services.db.session() as session:
        removed = purge_processed_events(session, utcnow())
    logger.debug("purged %d processed event ids", removed)
