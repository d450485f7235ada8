"""What a job is: the plain, JSON-serialisable arguments of one use case, and where it runs.

Each use case (in `bot.slack`) defines its job as a frozen dataclass deriving from `Job`; a
listener builds one and enqueues it, a worker turns the stored arguments back into it and runs
the use case. Jobs name their task and queue, so enqueueing needs no import of the code that
runs them (web processes enqueue without loading the workers' task table).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

# Added to every job's arguments when it is enqueued: how long it waited is measured from it.
ENQUEUED_AT = "enqueued_at"


class Queue(StrEnum):
    """Coaching jobs may wait on an LLM; Slack jobs only talk to Slack and the database. Each
    queue has its own worker slots, so slow critiques never hold up a modal or a reminder."""

    coaching = "coaching"
    slack = "slack"


@dataclass(frozen=True, kw_only=True)
class Job:
    task: ClassVar[str]
    queue: ClassVar[Queue] = Queue.slack

    def arguments(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any]) -> Self:
        return cls(**arguments)

    def lock(self) -> str | None:
        """Jobs with the same lock run one at a time, in the order they were enqueued."""
        return None


class QueueUnavailable(RuntimeError):
    """The job could not be stored (the database is unreachable): nothing was enqueued."""
