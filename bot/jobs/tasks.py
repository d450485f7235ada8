"""The workers' task table: each job type and the use case that runs it, with its retry policy
and, for jobs someone is waiting on, what to tell them when the job gives up.

Only worker processes load this (it imports every use case); web processes enqueue by name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate import JobContext
from procrastinate.jobs import Job as QueuedJob

from bot.jobs import housekeeping
from bot.jobs.job import ENQUEUED_AT, Job
from bot.jobs.retry import RetryPassingTroubles
from bot.logs import log_context
from bot.metrics import JOB_SECONDS, JOB_WAIT_SECONDS, JOBS_FAILED, JOBS_RETRIED, JOBS_RUNNING
from bot.services import Services
from bot.slack import (
    admin_commands,
    check_draft,
    critique_message,
    disputes,
    home,
    notices,
    practice_end,
    practice_start,
    practice_turn,
    reminders,
)

logger = logging.getLogger(__name__)

SERVICES = "services"  # the key of the worker's Services in the job context


@dataclass(frozen=True)
class UseCase:
    job: type[Job]
    run: Callable[[Services, Any], None]
    # Tells whoever is waiting that the job gave up (the job, and the error that ended it).
    give_up: Callable[[Services, Any, Exception], None] | None = None


USE_CASES = (
    UseCase(
        critique_message.CritiqueAsked,
        critique_message.deliver_critique,
        critique_message.tell_critique_failed,
    ),
    UseCase(
        check_draft.DraftCheckAsked, check_draft.answer_draft_check, check_draft.tell_check_failed
    ),
    UseCase(
        practice_start.PracticeStartAsked,
        practice_start.start_practice,
        practice_start.tell_start_failed,
    ),
    UseCase(
        practice_turn.PracticeTurnAsked,
        practice_turn.play_practice_turn,
        practice_turn.tell_turn_failed,
    ),
    UseCase(practice_end.PracticeEndAsked, practice_end.end_practice),
    UseCase(practice_end.ScorecardDue, practice_end.post_scorecard),
    UseCase(practice_end.IdlePracticeDue, practice_end.time_out_idle_practice),
    UseCase(
        admin_commands.AdminCommandAsked,
        admin_commands.run_admin_command,
        admin_commands.tell_admin_command_failed,
    ),
    UseCase(home.HomeOpened, home.publish_home),
    UseCase(disputes.DisputeResolutionAsked, disputes.resolve_dispute),
    UseCase(notices.Notice, notices.deliver_notice),
    UseCase(reminders.RemindersDue, reminders.send_due_reminders),
    UseCase(reminders.WorkspaceRemindersDue, reminders.send_one_workspace),
    UseCase(housekeeping.ProcessedEventsDue, housekeeping.purge_old_event_ids),
    UseCase(housekeeping.RetentionDue, housekeeping.purge_expired_data),
    UseCase(housekeeping.WorkspaceGone, housekeeping.forget_workspace),
)


def start_workers(services: Services) -> None:
    """Run this process's share of the jobs (see `JobQueue.start_workers`)."""
    services.jobs.start_workers(lambda app: register_tasks(app, services), {SERVICES: services})


def register_tasks(app: procrastinate.App, services: Services) -> None:
    retry = RetryPassingTroubles(services.settings.job_max_attempts)
    for use_case in USE_CASES:
        app.task(
            name=use_case.job.task,
            queue=use_case.job.queue.value,
            pass_context=True,
            retry=retry,
        )(_in_job_thread(services, _runner(use_case, retry)))
    settings = services.settings

    async def give_up(lost: QueuedJob) -> None:
        await services.jobs.in_job_thread(_give_up_lost, services, lost)

    @app.task(name=housekeeping.StalledJobsDue.task, queue=housekeeping.StalledJobsDue.queue.value)
    async def retry_stalled(**arguments: Any) -> None:
        await housekeeping.retry_stalled_jobs(
            app, settings.job_stalled_after_seconds, settings.job_max_attempts, give_up
        )


def _in_job_thread(services: Services, run: Callable[..., None]) -> Callable[..., Awaitable[None]]:
    async def task(context: JobContext, **arguments: Any) -> None:
        await services.jobs.in_job_thread(run, context, **arguments)

    task.__name__ = run.__name__
    return task


def _runner(use_case: UseCase, retry: RetryPassingTroubles) -> Callable[..., None]:
    task = use_case.job.task

    def run(context: JobContext, **arguments: Any) -> None:
        services: Services = context.additional_context[SERVICES]
        enqueued_at = arguments.pop(ENQUEUED_AT, None)
        if enqueued_at is not None and context.job.attempts == 0:
            JOB_WAIT_SECONDS.labels(task=task).observe(max(time.time() - enqueued_at, 0.0))
        job = use_case.job.from_arguments(arguments)
        started = time.perf_counter()
        JOBS_RUNNING.labels(task=task).inc()
        try:
            with log_context(
                job_id=context.job.id,
                team_id=arguments.get("team_id"),
                channel_id=arguments.get("channel_id"),
            ):
                use_case.run(services, job)
        except Exception as error:
            if retry.get_retry_decision(exception=error, job=context.job) is not None:
                JOBS_RETRIED.labels(task=task).inc()
            else:
                JOBS_FAILED.labels(task=task).inc()
                logger.warning(
                    "job %s (%s) gave up after %d attempts: %s",
                    context.job.id,
                    task,
                    context.job.attempts + 1,
                    type(error).__name__,
                )
                _tell_waiting(use_case, services, job, error)
            raise
        finally:
            JOBS_RUNNING.labels(task=task).dec()
            JOB_SECONDS.labels(task=task).observe(time.perf_counter() - started)

    run.__name__ = task
    return run


class WorkerLost(RuntimeError):
    """The worker running the job stopped sending heartbeats (killed, or its machine lost)."""


_USE_CASE_OF_TASK = {use_case.job.task: use_case for use_case in USE_CASES}


def _give_up_lost(services: Services, lost: QueuedJob) -> None:
    """A job whose last attempt was lost with its worker: counted and told as any other."""
    use_case = _USE_CASE_OF_TASK.get(lost.task_name)
    if use_case is None:
        return
    JOBS_FAILED.labels(task=lost.task_name).inc()
    arguments = {name: value for name, value in lost.task_kwargs.items() if name != ENQUEUED_AT}
    _tell_waiting(use_case, services, use_case.job.from_arguments(arguments), WorkerLost())


def _tell_waiting(use_case: UseCase, services: Services, job: Job, error: Exception) -> None:
    """A dead job ends with the person told, never silence (best effort: Slack may be the
    reason it died)."""
    if use_case.give_up is None:
        return
    try:
        use_case.give_up(services, job, error)
    except Exception as error:
        logger.warning("could not tell anyone that %s gave up: %s", job.task, type(error).__name__)
