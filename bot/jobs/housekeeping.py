"""Jobs that keep the bot's own tables tidy: forgotten event ids, and the queue's stalled jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import procrastinate

from bot.jobs.job import Job
from bot.services import Services
from bot.store.base import utcnow
from bot.store.events import purge_processed_events

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ProcessedEventsDue(Job):
    task: ClassVar[str] = "purge_processed_events"


@dataclass(frozen=True, kw_only=True)
class StalledJobsDue(Job):
    """Jobs left running by a worker that stopped sending heartbeats (killed, or its machine
    lost): they run again on a live worker."""

    task: ClassVar[str] = "retry_stalled_jobs"


def purge_old_event_ids(services: Services, due: ProcessedEventsDue) -> None:
    with services.db.session() as session:
        removed = purge_processed_events(session, utcnow())
    logger.debug("purged %d processed event ids", removed)


async def retry_stalled_jobs(app: procrastinate.App, stalled_after: float) -> None:
    manager = app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    for job in stalled:
        logger.warning(
            "job %s (%s) was left running by a lost worker: retrying", job.id, job.task_name
        )
        await manager.retry_job(job)
