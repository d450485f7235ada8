"""Logging set-up: one line a record, as text or JSON, with the workspace, channel, event and job
it concerns; no Slack token ever reaches a log line, nor a request body or a job's arguments
from the libraries that would log them.

    with log_context(team_id=body["team_id"], event_id=body["event_id"]):
        ...  # every record logged here, by any module, carries both ids
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from bot.settings import LogFormat

# Bot, user, app-level, refresh and configuration tokens.
SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
# How slack_bolt's messages quote a request's body: "Invalid request signature detected
# (signature: …, timestamp: …, body: …)" and "… without providing a response for the request (…)".
_REQUEST_BODY = re.compile(r"(body: |for the request \().*\)$", re.DOTALL)
# The bolt logger that logs a rejected request's body at INFO; bolt names it after the class.
_SIGNATURE_LOGGER = "slack_bolt.RequestVerification"
# procrastinate's job outcome line ends with the task's return value.
_JOB_RESULT = re.compile(r" - Result: .*$", re.DOTALL)
# A job as procrastinate writes it, `task[id](arguments…)`, where a record carries no job to
# match it against (e.g. "Waiting for job to finish: worker: task[7](draft='…') (started …)").
_CALL_STRING = re.compile(r"([\w.:-]+\[\d+\])\(.*\)(?= ended with status|$)", re.DOTALL)
# What procrastinate's records may say of a job above DEBUG: not its arguments.
_JOB_FIELDS = ("id", "task_name", "queue", "status", "attempts", "scheduled_at", "worker_id")

# The ids `log_context` binds, in the order they are shown.
CONTEXT_FIELDS = ("team_id", "channel_id", "event_id", "job_id")
_context: ContextVar[Mapping[str, str]] = ContextVar("log_context", default=MappingProxyType({}))


@contextmanager
def log_context(
    *,
    team_id: str | None = None,
    channel_id: str | None = None,
    event_id: str | None = None,
    job_id: str | int | None = None,
) -> Iterator[None]:
    """Binds these ids to every record logged inside the block, in this thread or task; a
    block inside another adds to (or overrides) the outer block's ids. Ids only: never text."""
    given = {"team_id": team_id, "channel_id": channel_id, "event_id": event_id, "job_id": job_id}
    bound = {name: str(value) for name, value in given.items() if value is not None}
    token = _context.set({**_context.get(), **bound})
    try:
        yield
    finally:
        _context.reset(token)


def bind_request_ids(*, team_id: str | None, channel_id: str | None, event_id: str | None) -> None:
    """Binds the ids of the Slack request being handled, for the rest of the request (bolt's
    middleware cannot wrap the listener in a block; the WSGI wrapper's `log_context` ends the
    binding with the request)."""
    given = {"team_id": team_id, "channel_id": channel_id, "event_id": event_id}
    _context.set(MappingProxyType({k: str(v) for k, v in given.items() if v is not None}))


class BindContext(logging.Filter):
    """Puts the ids bound by `log_context` on the record (None where unbound), unless the record
    brought its own (procrastinate's job id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _context.get()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, bound.get(name))
        return True


class RedactTokens(logging.Filter):
    """Masks Slack tokens in every record, whichever library logged it (slack_sdk logs request
    details at DEBUG), in its message and in its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SLACK_TOKEN.search(message):
            record.msg = SLACK_TOKEN.sub("[redacted-token]", message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = SLACK_TOKEN.sub("[redacted-token]", record.exc_text)
        return True


class WithholdRequestBodies(logging.Filter):
    """Cuts the request body out of slack_bolt's records: on a bad or stale signature bolt logs
    the whole body (message text, response_url) at INFO, and anybody can send one."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _REQUEST_BODY.search(message):
            record.msg = _REQUEST_BODY.sub(r"\1withheld)", message)
            record.args = None
        return True


def withhold_request_bodies(app_logger: logging.Logger) -> None:
    """Installs WithholdRequestBodies on the bolt app's logger and on its signature check's
    (logger filters, so every handler, a test's too, gets the record without the body)."""
    for logger in (app_logger, logging.getLogger(_SIGNATURE_LOGGER)):
        if not any(isinstance(known, WithholdRequestBodies) for known in logger.filters):
            logger.addFilter(WithholdRequestBodies())


class WithholdJobArguments(logging.Filter):
    """Above DEBUG, procrastinate's records name a job by task and id only, and name a job's
    error by its type. procrastinate writes a job as `task[id](draft='…')` in its messages
    ("Starting job …", "Job … ended with status: Success, … - Result: …", "Waiting for job to
    finish …"), attaches the job, arguments included, as `job` / `jobs`, and logs a failed
    job's traceback, whose messages may quote what the job was given."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or record.name.partition(".")[0] != "procrastinate":
            return True
        jobs: list[dict[str, Any]] = [*filter(None, [getattr(record, "job", None)])]
        jobs += getattr(record, "jobs", [])
        message = _JOB_RESULT.sub("", record.getMessage())
        for job in jobs:
            if job.get("call_string"):
                message = message.replace(job["call_string"], f"{job['task_name']}[{job['id']}]")
        message = _CALL_STRING.sub(r"\1", message)
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({_error_types(record.exc_info[1])})"
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = message, None
        if hasattr(record, "job"):
            record.job = _job_without_arguments(record.job)
            record.job_id = record.job.get("id")
        if hasattr(record, "jobs"):
            record.jobs = [_job_without_arguments(job) for job in record.jobs]
        if hasattr(record, "result"):
            record.result = None
        return True


def _error_types(error: BaseException) -> str:
    """`OperationalError from OSError`: an error and its causes, by type only."""
    types = []
    while error is not None and len(types) < 5:
        types.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    return " from ".join(types)


def _job_without_arguments(job: dict[str, Any] | None) -> dict[str, Any]:
    return {name: job[name] for name in _JOB_FIELDS if name in job} if job else {}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [team_id=T… event_id=Ev…]`, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{name}={value}" for name, value in _bound_ids(record).items())
        if not ids:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{first} [{ids}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the bound ids and any traceback.
    Nothing else a library attaches to a record is written (it may hold text)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_bound_ids(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _bound_ids(record: logging.LogRecord) -> dict[str, str]:
    ids = {name: getattr(record, name, None) for name in CONTEXT_FIELDS}
    return {name: str(value) for name, value in ids.items() if value is not None}


def build_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """The one handler every record goes through: tokens masked, job arguments withheld, ids
    bound, then formatted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    for record_filter in (RedactTokens(), WithholdJobArguments(), BindContext()):
        handler.addFilter(record_filter)
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.json else TextFormatter())
    return handler


def configure_logging(level: str, log_format: LogFormat = LogFormat.text) -> None:
    root = logging.getLogger()
    root.handlers[:] = [build_handler(log_format)]
    root.setLevel(level.upper())
