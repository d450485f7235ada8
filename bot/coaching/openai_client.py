"""The OpenAI client of the LLM engines (imported by `llm_calls` on the first LLM call).

Its own retries are off: `llm_calls.DeadlineCalls` retries within a deadline. httpx's timeouts
apply to each phase and each read, so a server that drips its answer would never time out: the
client's event hooks make one attempt's timeout hold for the whole exchange.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import openai

from bot.settings import Settings


def openai_client(settings: Settings) -> openai.OpenAI:
    key = settings.openai_api_key
    return openai.OpenAI(
        api_key=key.get_secret_value() if key else None,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=0,  # ours are bounded by the deadline
        http_client=whole_exchange_client(),
    )


class _TimeLeft(dict):
    """An attempt's timeouts as httpcore reads them (`timeouts.get("connect")`, "write",
    "read", "pool"), each the time left until one deadline, so the phases share it."""

    def __init__(self, deadline: float) -> None:
        super().__init__(connect=None, read=None, write=None, pool=None)
        self.deadline = deadline

    def get(self, key: str, default: object = None) -> object:
        if key not in self:
            return default
        return max(self.deadline - time.monotonic(), 0.001)

    def __getitem__(self, key: str) -> float:
        return self.get(key)  # type: ignore[return-value]


class _BodyUntil(httpx2.SyncByteStream):
    """The answer's body, cut off at the deadline however slowly it drips."""

    def __init__(self, stream: httpx2.SyncByteStream, deadline: float, request) -> None:
        self.stream, self.deadline, self.request = stream, deadline, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.stream:
            if time.monotonic() > self.deadline:
                message = "the answer took longer than its timeout"
                raise httpx2.ReadTimeout(message, request=self.request)
            yield chunk

    def close(self) -> None:
        self.stream.close()


def _start_the_clock(request: httpx2.Request) -> None:
    timeout = request.extensions.get("timeout") or {}
    seconds = timeout.get("read")
    if seconds is not None:
        request.extensions["timeout"] = _TimeLeft(time.monotonic() + seconds)


def _cut_the_body(response: httpx2.Response) -> None:
    timeout = response.request.extensions.get("timeout")
    if isinstance(timeout, _TimeLeft):
        response.stream = _BodyUntil(response.stream, timeout.deadline, response.request)


def whole_exchange_client() -> httpx2.Client:
    """An httpx client (with the openai client's defaults) on which a request's read timeout
    bounds the whole exchange: connecting, sending, waiting and reading the body."""
    return openai.DefaultHttpxClient(
        event_hooks={"request": [_start_the_clock], "response": [_cut_the_body]}
    )
