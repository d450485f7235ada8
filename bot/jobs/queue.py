"""The job queue, over procrastinate: durable in PostgreSQL, in process on SQLite.

Every process that answers Slack opens the queue, to enqueue; worker processes (and `asap-coach
run` unless told otherwise) also run jobs. On PostgreSQL the jobs are rows in procrastinate's
tables, so a job enqueued by one replica runs on any worker, survives a crash of either, and jobs
with the same lock run one at a time in order. On SQLite (one process by design) the same tasks
run through procrastinate's in-memory connector: same interface, no queue server, and a job not
yet run is lost with the process, as the work of a single-process bot always was.

procrastinate is asyncio-based while the bot's code is synchronous, so the queue owns one event
loop in a thread: enqueueing hands the insert to that loop, and each job's code runs on a pool
of job threads, one per worker slot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cached_property
from typing import TypeVar

import procrastinate
from procrastinate import utils as procrastinate_utils
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.testing import InMemoryConnector
from procrastinate.worker import Worker
from sqlalchemy.engine import make_url

from bot.jobs.job import ENQUEUED_AT, Job, Queue, QueueUnavailable
from bot.metrics import JOB_QUEUE_DEPTH, JOBS_QUEUED
from bot.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

# An enqueue is one INSERT: if the database does not answer in this time, the caller answers
# Slack with "try again" rather than miss its 3 s deadline.
ENQUEUE_TIMEOUT_SECONDS = 2.0
OPEN_TIMEOUT_SECONDS = 15.0
DEPTH_TIMEOUT_SECONDS = 1.0
# Workers hear of new jobs at once (LISTEN/NOTIFY), but not of a lock being freed: a practice
# turn waiting behind the same session's previous turn is fetched at the next poll.
POLL_SECONDS = 0.1
# A worker that stopped on its own is started again after a pause that doubles while it keeps
# failing (the database still down), up to the longest.
RESTART_FIRST_PAUSE_SECONDS = 1.0
RESTART_LONGEST_PAUSE_SECONDS = 30.0
# How long a stopping worker lets running jobs finish before they are aborted (and retried).
SHUTDOWN_GRACE_SECONDS = 20.0
# Each later step of closing (a worker's own wind-down, the connections, the loop's thread).
CLOSE_STEP_SECONDS = 5.0
# The longest `close` takes: what a container's stop grace period must exceed, or running jobs
# are killed mid-way instead of finishing.
LONGEST_CLOSE_SECONDS = SHUTDOWN_GRACE_SECONDS + 3 * CLOSE_STEP_SECONDS


class InProcessConnector(InMemoryConnector):
    """procrastinate's in-memory queue, with PostgreSQL's rule for locks: a job waits behind
    every earlier job of its lock, running or waiting (a practice turn's retry, due later,
    still comes before the session's next turn), where the in-memory one only waits behind a
    running job. It also forgets a deleted job's events, which the in-memory one keeps for
    ever (a long-running bot's memory would grow with every job it ran)."""

    async def fetch_job_one(self, queues: Iterable[str] | None, worker_id: int) -> dict:
        """The first waiting job, in queue order, that may run now. One pass over the jobs:
        the queue's loop also serves every enqueue, and a pass per waiting job (thousands
        waiting under load) held the acks up for seconds."""
        now = procrastinate_utils.utcnow()
        taken_locks = {job["lock"] for job in self.jobs.values() if job["status"] == "doing"}
        waiting = sorted(
            (job for job in self.jobs.values() if job["status"] == "todo"), key=_queue_order
        )
        for job in waiting:
            lock = job["lock"]
            if lock is not None:
                if lock in taken_locks:
                    continue  # behind a running or earlier job of its lock
                taken_locks.add(lock)  # later jobs of this lock wait behind this one
            due = job["scheduled_at"] is None or job["scheduled_at"] <= now
            if due and (queues is None or job["queue_name"] in queues):
                job["status"], job["worker_id"] = "doing", worker_id
                self.events[job["id"]].append({"type": "started", "at": now})
                return job
        return {"id": None}

    async def finish_job_run(self, job_id: int, status: str, delete_job: bool) -> None:
        await super().finish_job_run(job_id, status, delete_job)
        if delete_job:
            self.events.pop(job_id, None)

    async def forget_team(self, team_id: str) -> int:
        """As FORGET_TEAM_JOBS, in memory."""
        gone = [
            job_id
            for job_id, job in self.jobs.items()
            if job["args"].get("team_id") == team_id and job["status"] != "doing"
        ]
        for job_id in gone:
            del self.jobs[job_id]
            self.events.pop(job_id, None)
        return len(gone)


# A workspace's jobs that are not running: waiting ones (a draft's text, a message to post
# there) and finished ones. Running ones (the job forgetting the workspace among them) end by
# themselves; a failed one is then deleted with the finished jobs a day later.
FORGET_TEAM_JOBS = """
    WITH forgotten AS (
        DELETE FROM procrastinate_jobs
         WHERE args->>'team_id' = %(team_id)s AND status <> 'doing'
        RETURNING id
    )
    SELECT count(*) AS count FROM forgotten
"""


async def _forget_team_rows(connector: procrastinate.PsycopgConnector, team_id: str) -> int:
    row = await connector.execute_query_one_async(FORGET_TEAM_JOBS, team_id=team_id)
    return row["count"]


def _queue_order(job: dict) -> tuple[int, int]:
    """Higher priority first, then first enqueued first."""
    return (-job["priority"], job["id"])


def _connector(settings: Settings):
    if settings.is_sqlite:
        # procrastinate has no SQLite connector; its in-memory one runs the same queue logic
        # (locks, retries, priorities) inside this process.
        return InProcessConnector()
    # procrastinate speaks libpq connection strings, not SQLAlchemy URLs.
    url = make_url(settings.database_url).set(drivername="postgresql")
    return procrastinate.PsycopgConnector(
        conninfo=url.render_as_string(hide_password=False),
        min_size=1,
        max_size=max(4, settings.http_threads),
    )


class JobQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._workers: list[tuple[_Supervised, Future]] = []
        self._job_threads: ThreadPoolExecutor | None = None

    @cached_property
    def app(self) -> procrastinate.App:
        """Made when first used: a process that never opens the queue (a command that fails
        its checks) connects to nothing."""
        return procrastinate.App(connector=_connector(self.settings))

    @property
    def in_process(self) -> bool:
        return self.settings.is_sqlite

    # -- lifecycle --------------------------------------------------------------------------

    def open(self) -> None:
        """Start the queue's event loop and connect; idempotent."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="asap-coach-queue")
        self._thread.start()
        started.wait()
        self._loop = loop
        try:
            self._call(self.app.open_async(), OPEN_TIMEOUT_SECONDS)
        except Exception:
            self.close()
            raise
        for queue in Queue:
            JOB_QUEUE_DEPTH.labels(queue=queue.value).set_function(lambda q=queue: self.waiting(q))

    def start_workers(self, register_tasks: Callable[[procrastinate.App], None], context: dict):
        """Run jobs in this process: one worker per queue, each with its own slots (the
        coaching queue's slots bound the LLM calls in flight; the excess waits in the queue)."""
        self.open()
        register_tasks(self.app)
        slots = {
            Queue.coaching: self.settings.llm_concurrency,
            Queue.slack: self.settings.worker_concurrency,
        }
        # One thread per slot, apart from the loop's own default executor (which resolves host
        # names for the database connections: busy job threads must not hold that up).
        self._job_threads = ThreadPoolExecutor(
            max_workers=sum(slots.values()), thread_name_prefix="asap-job"
        )
        for queue, concurrency in slots.items():
            worker = _Supervised(
                queue,
                lambda queue=queue, concurrency=concurrency: Worker(
                    self.app,
                    queues=[queue.value],
                    name=f"{queue.value}-worker",
                    concurrency=concurrency,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    additional_context=context,
                    shutdown_graceful_timeout=SHUTDOWN_GRACE_SECONDS,
                    update_heartbeat_interval=self.settings.job_heartbeat_seconds,
                    stalled_worker_timeout=self.settings.job_stalled_after_seconds,
                    listen_notify=not self.in_process,
                    fetch_job_polling_interval=POLL_SECONDS,
                ),
            )
            running = asyncio.run_coroutine_threadsafe(worker.run(), self._loop)
            self._workers.append((worker, running))

    async def in_job_thread(self, run: Callable[..., T], *args, **kwargs) -> T:
        """Run a job's synchronous code on one of the job threads, from the queue's loop."""
        assert self._loop is not None and self._job_threads is not None
        return await self._loop.run_in_executor(
            self._job_threads, functools.partial(run, *args, **kwargs)
        )

    @property
    def workers_running(self) -> bool:
        return bool(self._workers) and not any(running.done() for _, running in self._workers)

    def close(self) -> None:
        """Stop the workers (running jobs get the grace period), disconnect, stop the loop."""
        loop = self._loop
        if loop is None:
            return
        for worker, _ in self._workers:
            loop.call_soon_threadsafe(worker.stop)
        for _, running in self._workers:
            try:
                running.result(timeout=SHUTDOWN_GRACE_SECONDS + CLOSE_STEP_SECONDS)
            except Exception as error:
                logger.warning("a job worker stopped with %s", type(error).__name__)
        self._workers.clear()
        if self._job_threads is not None:
            self._job_threads.shutdown(wait=False, cancel_futures=True)
        self._loop = None
        try:
            asyncio.run_coroutine_threadsafe(self.app.close_async(), loop).result(
                timeout=CLOSE_STEP_SECONDS
            )
        except Exception as error:  # a connection already gone is closed enough
            logger.debug("closing the queue: %s", type(error).__name__)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=CLOSE_STEP_SECONDS)

    # -- using it ---------------------------------------------------------------------------

    def enqueue(self, job: Job, *, queueing_lock: str | None = None, delay: float = 0.0) -> bool:
        """Store the job for a worker, to run `delay` seconds from now at the earliest. False
        when `queueing_lock` is given and a job with it is already waiting (periodic ticks use
        this not to pile up). Raises QueueUnavailable when the job could not be stored."""
        deferrer = self.app.configure_task(
            job.task,
            queue=job.queue.value,
            lock=job.lock(),
            queueing_lock=queueing_lock,
            schedule_in={"seconds": delay} if delay > 0 else None,
        )
        arguments = {**job.arguments(), ENQUEUED_AT: time.time()}
        try:
            self._call(deferrer.defer_async(**arguments), ENQUEUE_TIMEOUT_SECONDS)
        except AlreadyEnqueued:
            return False
        except (ConnectorException, OSError, FutureTimeout) as error:
            raise QueueUnavailable(f"could not enqueue {job.task}") from error
        JOBS_QUEUED.labels(task=job.task).inc()
        return True

    def forget_finished_jobs(self, older_than_hours: int) -> None:
        """Delete jobs that ended that long ago, failed ones too (their arguments may hold a
        draft's text; successful jobs are deleted as they finish)."""
        manager = self.app.job_manager
        self._call(
            manager.delete_old_jobs(
                older_than_hours, include_failed=True, include_cancelled=True, include_aborted=True
            ),
            ENQUEUE_TIMEOUT_SECONDS * 5,
        )

    def forget_team(self, team_id: str) -> int:
        """Delete the workspace's jobs that are not running (see FORGET_TEAM_JOBS); how many."""
        connector = self.app.connector
        if isinstance(connector, InProcessConnector):
            forgetting = connector.forget_team(team_id)
        else:
            forgetting = _forget_team_rows(connector, team_id)
        return self._call(forgetting, ENQUEUE_TIMEOUT_SECONDS * 5)

    def waiting(self, queue: Queue | None = None, *, running_too: bool = False) -> int:
        """Jobs waiting to run in the queue, or in every queue, and with `running_too` those
        running (read when /metrics is scraped); -1 if unknown."""
        name = None if queue is None else queue.value
        try:
            stats = self._call(
                self.app.job_manager.list_queues_async(queue=name), DEPTH_TIMEOUT_SECONDS
            )
        except Exception as error:  # a scrape must never fail because the database did
            logger.debug("queue depth unknown: %s", type(error).__name__)
            return -1
        return sum(row["todo"] + (row["doing"] if running_too else 0) for row in stats)

    def _call(self, awaitable: Awaitable[T], timeout: float) -> T:
        if self._loop is None:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never to run: said, so Python does not warn it was forgotten
            raise QueueUnavailable("the job queue is not open")

        async def awaited() -> T:
            return await awaitable

        future = asyncio.run_coroutine_threadsafe(awaited(), self._loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()  # the caller gives up on it: so does the loop
            raise


class _Supervised:
    """One queue's procrastinate worker, started again whenever it stops on its own (a
    database connection dropped under its fetch loop ends it): only `stop` ends it for good,
    so the bot recovers from a database outage without a restart."""

    def __init__(self, queue: Queue, make: Callable[[], Worker]) -> None:
        self._queue, self._make = queue, make
        self._worker: Worker | None = None
        self._stopping = False

    async def run(self) -> None:
        pause = RESTART_FIRST_PAUSE_SECONDS
        while not self._stopping:
            self._worker = self._make()
            try:
                await self._worker.run()
            except Exception as error:
                logger.warning(
                    "the %s job worker stopped (%s): starting it again in %.0f s",
                    self._queue.value,
                    type(error).__name__,
                    pause,
                )
            else:
                pause = RESTART_FIRST_PAUSE_SECONDS  # it ran until it was stopped
            if not self._stopping:
                await asyncio.sleep(pause)
                pause = min(pause * 2, RESTART_LONGEST_PAUSE_SECONDS)

    def stop(self) -> None:
        """Call on the queue's loop."""
        self._stopping = True
        if self._worker is not None:
            self._worker.stop()
