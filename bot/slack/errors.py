"""Telling Slack's passing troubles (retry later) from its final answers (tell the person)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

# Error codes Slack gives when trying again later may work.
TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class ResponseUrlFailed(RuntimeError):
    """Slack did not take the answer posted to a response URL (a rate limit or an outage
    outlasted the client's retries): the job is retried later, after `retry_after` seconds
    if Slack said."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ResponseUrlExpired(RuntimeError):
    """Slack refused the response URL itself (400 or 404: used five times, or older than 30
    minutes): it never will take an answer, so retrying cannot help."""


def is_transient(error: SlackApiError) -> bool:
    status = error.response.status_code
    return status == 429 or status >= 500 or error.response.get("error") in TRANSIENT_ERRORS


def slack_reason(error: Exception) -> str:
    """Slack's error code, or the exception's type: never a message's text."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


def retry_after(error: SlackApiError | ResponseUrlFailed) -> float | None:
    """The seconds Slack asked to wait (429's Retry-After), if it said."""
    if isinstance(error, ResponseUrlFailed):
        return error.retry_after
    return retry_after_header(error.response.headers or {})


def retry_after_header(headers: Mapping[str, Any]) -> float | None:
    """Retry-After in seconds, fractions kept; None when absent or not a number."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            # urllib hands slack_sdk each header as a list of values.
            first = value[0] if isinstance(value, list) else value
            try:
                return float(first)
            except (TypeError, ValueError):
                return None
    return None
