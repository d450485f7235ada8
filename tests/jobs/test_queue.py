"""The job queue on both backends: ordering by lock, retries, queueing locks, stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import pytest
from procrastinate import RetryStrategy

from bot.jobs.housekeeping import retry_stalled_jobs
from bot.jobs.job import Job, Queue
from bot.jobs.queue import JobQueue
from bot.jobs.retry import RetryPassingTroubles
from bot.settings import load_settings


@dataclass(frozen=True, kw_only=True)
class Turn(Job):
    task: ClassVar[str] = "play_turn"
    queue: ClassVar[Queue] = Queue.coaching

    session: str
    number: int

    def lock(self) -> str:
        return f"session:{self.session}"


@dataclass(frozen=True, kw_only=True)
class Tick(Job):
    task: ClassVar[str] = "tick"


@dataclass(frozen=True, kw_only=True)
class FlakyTick(Job):
    task: ClassVar[str] = "flaky_tick"


@dataclass(frozen=True, kw_only=True)
class Stuck(Job):
    """Runs until the test lets it go: a job whose worker is lost, as far as the queue knows."""

    task: ClassVar[str] = "stuck"
    number: int

    def lock(self) -> str:
        return "stuck"


@pytest.fixture
def played() -> list[int]:
    return []


@pytest.fixture
def ticks_may_end() -> Iterator[threading.Event]:
    released = threading.Event()
    yield released
    released.set()


@pytest.fixture
def flaky_ticks() -> list[float]:
    return []


@pytest.fixture
def queue(
    database_url: str,
    played: list[int],
    ticks_may_end: threading.Event,
    flaky_ticks: list[float],
) -> Iterator[JobQueue]:
    # Two slots for the slack queue's jobs: running ticks that hold both keep the next one
    # waiting in the queue, and a lost job's slot leaves one for the job behind it.
    settings = load_settings(_env_file=None, database_url=database_url, worker_concurrency=2)
    failed_once: set[int] = set()
    release = threading.Event()
    lock = threading.Lock()

    def register(app) -> None:
        @app.task(
            name=Turn.task, queue=Turn.queue.value, retry=RetryStrategy(max_attempts=3, wait=1)
        )
        def play_turn(session: str, number: int, enqueued_at: float) -> None:
            with lock:
                if number == 1 and number not in failed_once:  # the first turn fails once
                    failed_once.add(number)
                    raise ConnectionError("the model dropped the connection")
                played.append(number)

        @app.task(name=Tick.task, queue=Tick.queue.value)
        def tick(enqueued_at: float) -> None:
            ticks_may_end.wait(10)

        @app.task(name=Stuck.task, queue=Stuck.queue.value)
        def stuck(number: int, enqueued_at: float) -> None:
            played.append(number)
            if number == 1:
                release.wait(timeout=10)

        @app.task(name=FlakyTick.task, queue=FlakyTick.queue.value, retry=RetryPassingTroubles(3))
        def flaky_tick(enqueued_at: float) -> None:
            flaky_ticks.append(enqueued_at)
            time.sleep(0.3)
            if len(flaky_ticks) == 1:
                raise ConnectionError("the database dropped the connection")

    jobs = JobQueue(settings)
    jobs.start_workers(register, {})
    yield jobs
    release.set()
    jobs.close()


async def _nobody_waits(job) -> None:
    return None


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "still waiting"
        time.sleep(0.02)


def test_jobs_of_one_lock_run_in_order_even_when_the_first_is_retried(
    queue: JobQueue, played: list[int]
) -> None:
    for number in (1, 2, 3):
        queue.enqueue(Turn(session="S1", number=number))

    _wait_for(lambda: len(played) == 3)
    assert played == [1, 2, 3]  # turn 2 waited for turn 1's retry, a second later


def test_a_queueing_lock_keeps_one_job_waiting(
    queue: JobQueue, ticks_may_end: threading.Event
) -> None:
    first = queue.enqueue(Tick(), queueing_lock="tick")
    again = [queue.enqueue(Tick(), queueing_lock="tick") for _ in range(3)]

    assert first and not all(again)
    ticks_may_end.set()
    _wait_for(lambda: queue.waiting(running_too=True) == 0)
    assert queue.enqueue(Tick(), queueing_lock="tick")  # once it ran, the next may wait


def test_in_process_jobs_leave_nothing_behind_once_done(
    queue: JobQueue, played: list[int], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("on PostgreSQL finished jobs are rows, deleted by housekeeping")
    for number in (1, 2, 3):
        queue.enqueue(Turn(session="S1", number=number))

    _wait_for(lambda: len(played) == 3 and queue.waiting(running_too=True) == 0)
    # A long-running bot's memory must not grow with every job it ran (the events of each job
    # outlived it in procrastinate's in-memory queue).
    assert queue.app.connector.jobs == {} and queue.app.connector.events == {}


def test_a_failed_job_under_a_queueing_lock_leaves_its_work_to_the_next_one(
    queue: JobQueue, flaky_ticks: list[float]
) -> None:
    assert queue.enqueue(FlakyTick(), queueing_lock="flaky")
    _wait_for(lambda: flaky_ticks)
    assert queue.enqueue(FlakyTick(), queueing_lock="flaky")  # waits while the first runs

    # The first fails on a passing trouble and is not retried: its retry, waiting beside the
    # second under the same queueing lock, would be refused and leave it running for good.
    _wait_for(lambda: queue.waiting(running_too=True) == 0)
    assert len(flaky_ticks) == 2


def test_a_lost_job_under_a_queueing_lock_is_ended_so_the_next_one_runs(
    queue: JobQueue, played: list[int], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("in process there is no other worker to lose")
    assert queue.enqueue(Stuck(number=1), queueing_lock="stuck")
    _wait_for(lambda: played == [1])
    assert queue.enqueue(Stuck(number=2), queueing_lock="stuck")  # waits behind the lock

    # Its heartbeat is "too old" at once: as if its worker had been killed.
    queue._call(
        retry_stalled_jobs(queue.app, stalled_after=0, max_attempts=3, give_up=_nobody_waits),
        timeout=5,
    )

    _wait_for(lambda: played == [1, 2])
