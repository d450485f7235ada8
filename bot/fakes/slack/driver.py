"""Slack's side of the app's Request URL: signed requests, the 3-second ack, event retries.

Slack signs every request with the app's signing secret (`v0=` HMAC-SHA256 over
`v0:{timestamp}:{body}`), waits at most 3 seconds for a 2xx, and redelivers an *event* that was
not acknowledged up to three times, with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`. Slash
commands and interactions are never retried: the user sees an error instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

SLACK_ACK_DEADLINE = 3.0
# Slack retries at once, after one minute, then after five; the fake defaults to no waiting.
SLACK_RETRY_DELAYS = (0.0, 60.0, 300.0)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Attempt:
    """One HTTP request to the app and how it went."""

    retry_num: int  # 0 for the first delivery
    retry_reason: str | None
    status: int | None  # None when no HTTP answer came (timeout, connection failure)
    body: str
    headers: dict[str, str]  # the app's response headers, lower-cased
    latency: float  # seconds until the answer or until Slack gave up
    failure: str | None  # why Slack counts it as failed: http_timeout, http_error, …

    @property
    def acked(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Delivery:
    """A request Slack made to the app, with every retry of it."""

    kind: str  # "event", "command", "interaction", "url_verification" or "raw"
    payload: Any  # what was sent: the event envelope, the command's fields, the interaction
    attempts: tuple[Attempt, ...]
    ack_deadline: float
    outcome: str | None = None  # what Slack did with the answer, e.g. "ephemeral", "view_closed"

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status

    @property
    def body(self) -> str:
        return self.attempts[-1].body

    @property
    def latency(self) -> float:
        """Seconds the app took to answer the first delivery."""
        return self.attempts[0].latency

    @property
    def acked_within_deadline(self) -> bool:
        return self.attempts[0].acked and self.latency <= self.ack_deadline

    @property
    def retries(self) -> list[tuple[int, str]]:
        """(X-Slack-Retry-Num, X-Slack-Retry-Reason) of each redelivery."""
        return [(a.retry_num, a.retry_reason or "") for a in self.attempts[1:]]

    @property
    def event_id(self) -> str | None:
        return self.payload.get("event_id") if isinstance(self.payload, dict) else None

    def json(self) -> Any:
        """The last answer's body as JSON; None when it was empty or not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class AppConnection:
    signing_secret: str
    ack_deadline: float = SLACK_ACK_DEADLINE
    retry_delays: Sequence[float] = (0.0, 0.0, 0.0)
    request_url: str | None = None
    # Loopback only: never send the app's traffic through a proxy from the environment.
    _opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(urllib.request.ProxyHandler({}))
    )

    def sign(self, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
        """Slack's request-signing headers for `body`, stamped now unless `timestamp` is given."""
        raw = body.encode() if isinstance(body, str) else body
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(
            self.signing_secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256
        ).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    def deliver(
        self,
        kind: str,
        payload: Any,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """Send once; what Slack does for commands and interactions."""
        attempt = self._attempt(body, content_type, headers=headers)
        return Delivery(kind, payload, (attempt,), self.ack_deadline)

    def deliver_event(self, envelope: dict[str, Any]) -> Delivery:
        """Send an Events API envelope, retrying while the app does not acknowledge it."""
        delivery = self.deliver("event", envelope, json.dumps(envelope).encode(), JSON_CONTENT_TYPE)
        for delay in self.retry_delays:
            last = delivery.attempts[-1]
            if last.acked or last.headers.get("x-slack-no-retry") == "1":
                break
            time.sleep(delay)
            delivery = self.redeliver(delivery, last.failure or "unknown_error")
        return delivery

    def redeliver(self, delivery: Delivery, reason: str) -> Delivery:
        """Send `delivery`'s payload again as Slack's next retry of it."""
        if delivery.kind != "event":
            raise ValueError(f"Slack retries only events, not a {delivery.kind}")
        body = json.dumps(delivery.payload).encode()
        attempt = self._attempt(body, JSON_CONTENT_TYPE, retry=(len(delivery.attempts), reason))
        return replace(delivery, attempts=(*delivery.attempts, attempt))

    def _attempt(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        retry: tuple[int, str] | None = None,
    ) -> Attempt:
        if self.request_url is None:
            raise RuntimeError("the app has no Request URL yet: call connect(request_url) first")
        request_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0"}
        request_headers.update(self.sign(body) if headers is None else headers)
        if retry is not None:
            request_headers["X-Slack-Retry-Num"] = str(retry[0])
            request_headers["X-Slack-Retry-Reason"] = retry[1]
        started = time.monotonic()
        status, answer, answer_headers, failure = self._post(request_headers, body)
        latency = time.monotonic() - started
        if failure is None and latency > self.ack_deadline:
            failure = "http_timeout"  # answered, but after Slack stopped waiting
        elif failure is None and not 200 <= (status or 0) < 300:
            failure = "http_error"
        retry_num, retry_reason = retry or (0, None)
        return Attempt(
            retry_num,
            retry_reason,
            status,
            answer.decode(errors="replace"),
            answer_headers,
            latency,
            failure,
        )

    def _post(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int | None, bytes, dict[str, str], str | None]:
        """(status, body, lower-cased headers, failure) of one POST to the Request URL."""
        assert self.request_url is not None
        request = urllib.request.Request(self.request_url, data=body, headers=headers)
        try:
            with self._opener.open(request, timeout=self.ack_deadline) as response:
                return response.status, response.read(), _lowered(response.headers), None
        except urllib.error.HTTPError as error:
            return error.code, error.read(), _lowered(error.headers), None
        except OSError as error:  # URLError wraps what happened while connecting
            reason = getattr(error, "reason", error)
            failure = "http_timeout" if isinstance(reason, TimeoutError) else "connection_failed"
            return None, b"", {}, failure


def _lowered(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class Outbox:
    """Delivers, in order and off the caller's thread, the events the app's own calls cause.

    Slack sends the `message` event for the app's chat.postMessage after answering the call;
    delivering it inside the call would make the app wait on itself.
    """

    def __init__(self, deliver: Callable[[dict[str, Any]], object]) -> None:
        self._deliver = deliver
        self._queue: deque[dict[str, Any]] = deque()
        self._busy = False
        self._stopping = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fake-slack-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._queue.clear()
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def put(self, event: dict[str, Any]) -> None:
        with self._condition:
            self._queue.append(event)
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued event has been delivered (with its retries)."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                event = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(event)
            except Exception:
                log.exception("fake Slack could not deliver %s", event.get("type"))
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
