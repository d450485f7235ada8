"""Jobs that keep the bot's tables tidy: expired text and metadata (the retention period), a
workspace that uninstalled, forgotten event ids, and the queue's own finished and stalled jobs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import procrastinate
from procrastinate.jobs import Job as QueuedJob
from procrastinate.jobs import Status

from bot.jobs.job import Job
from bot.services import Services
from bot.store.base import utcnow
from bot.store.events import purge_processed_events
from bot.store.retention import purge_expired, purge_workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ProcessedEventsDue(Job):
    task: ClassVar[str] = "purge_processed_events"


@dataclass(frozen=True, kw_only=True)
class RetentionDue(Job):
    task: ClassVar[str] = "purge_expired_data"


@dataclass(frozen=True, kw_only=True)
class WorkspaceGone(Job):
    """The app was uninstalled from the workspace: everything the bot holds for it goes, its
    jobs in the queue too."""

    task: ClassVar[str] = "purge_workspace"

    team_id: str


# Finished jobs are the queue's bookkeeping, not the workspace's record: a day is plenty.
FINISHED_JOBS_KEPT_HOURS = 24


@dataclass(frozen=True, kw_only=True)
class StalledJobsDue(Job):
    """Jobs left running by a worker that stopped sending heartbeats (killed, or its machine
    lost): they run again on a live worker, unless that run was their last attempt."""

    task: ClassVar[str] = "retry_stalled_jobs"


def purge_old_event_ids(services: Services, due: ProcessedEventsDue) -> None:
    with services.db.session() as session:
        removed = purge_processed_events(session, utcnow())
    logger.debug("purged %d processed event ids", removed)


def purge_expired_data(services: Services, due: RetentionDue) -> None:
    cutoff = utcnow() - timedelta(days=services.settings.retention_days)
    with services.db.session() as session:
        changed = purge_expired(session, cutoff)
    services.jobs.forget_finished_jobs(FINISHED_JOBS_KEPT_HOURS)
    if changed:
        logger.info("retention: forgot what was older than %s: %s", cutoff.date(), dict(changed))


def forget_workspace(services: Services, gone: WorkspaceGone) -> None:
    with services.db.session() as session:
        deleted = purge_workspace(session, gone.team_id)
    deleted["procrastinate_jobs"] += services.jobs.forget_team(gone.team_id)
    logger.info("workspace %s uninstalled: deleted %s", gone.team_id, dict(deleted))


async def retry_stalled_jobs(
    app: procrastinate.App,
    stalled_after: float,
    max_attempts: int,
    give_up: Callable[[QueuedJob], Awaitable[None]],
) -> None:
    """Run lost jobs again; one that was on its last attempt fails and `give_up` tells whoever
    waits on it. A job that kills its worker (out of memory, a crash in a library) would
    otherwise be retried, and kill a worker, forever."""
    manager = app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
    for job in stalled:
        if job.queueing_lock is not None:
            # Never retried (see `bot.jobs.retry`): ended, so that the job waiting under its
            # queueing lock, or the next one enqueued, does its work.
            logger.warning("job %s (%s) was left running by a lost worker", job.id, job.task_name)
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            continue
        # `attempts` counts the runs that ended before the lost one.
        if job.attempts + 1 >= max_attempts:
            logger.warning(
                "job %s (%s) was left running by a lost worker on its last attempt: failing it",
                job.id,
                job.task_name,
            )
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            await give_up(job)
            continue
        logger.warning(
            "job %s (%s) was left running by a lost worker: retrying", job.id, job.task_name
        )
        await manager.retry_job(job)
