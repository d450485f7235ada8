"""One LLM call within a total deadline, retries included, for both LLM engines.

The openai client's own retries are off (`max_retries=0`) because they know nothing of a
deadline: a hanging server cost the timeout times (retries + 1), 62 s for a critique. Here each
attempt gets what is left of the deadline as its timeout, and a retry (after a timeout, a 429 or
a 5xx) is made only when its wait (the server's Retry-After, else a backoff) still leaves time
for it.

The client is made on the first call, not at start: importing `openai` takes about 0.3 s and
15 MB beyond what the bot loads anyway, which a bot that has made no LLM call yet is spared. So
`openai` is imported in the functions that make a call or judge its error.

Every call is counted in the LLM metrics with its outcome, its time and its tokens.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import ValidationError

from bot.coaching.critique import TokenUsage
from bot.metrics import LLM_CALLS, LLM_SECONDS, LLM_TOKENS
from bot.settings import Settings
from bot.store.models import LlmKind

if TYPE_CHECKING:
    import openai

T = TypeVar("T")

# Below this, another attempt could not get an answer back in time.
MIN_ATTEMPT_SECONDS = 0.25
_BACKOFF_SECONDS, _MAX_BACKOFF_SECONDS = 0.5, 8.0
_RETRIED_STATUSES = frozenset({408, 409})  # and every 5xx, as the openai client does


class Outcome(StrEnum):
    """How an LLM call ended (the `outcome` label of asap_llm_calls_total)."""

    ok = "ok"
    timeout = "timeout"
    refusal = "refusal"
    error = "error"
    budget = "budget"
    rate_limited = "rate_limited"


class LLMFailure(Exception):
    """The model gave no usable answer: `reason` becomes the result's `fallback_reason`."""

    def __init__(self, reason: str, outcome: Outcome = Outcome.error) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


@dataclass(frozen=True)
class Answered(Generic[T]):
    value: T
    usage: TokenUsage


def count_refused(kind: LlmKind) -> None:
    """A call not made because an allowance is used up."""
    LLM_CALLS.labels(kind.value, Outcome.budget.value).inc()


class DeadlineCalls:
    """Makes one logical LLM call (`call`) with bounded retries inside `deadline_seconds`."""

    def __init__(
        self,
        connect: Callable[[], openai.OpenAI],
        *,
        kind: LlmKind,
        deadline_seconds: float,
        max_retries: int,
        attempt_seconds: float,
    ) -> None:
        self._connect = connect
        self._client: openai.OpenAI | None = None
        self._connecting = threading.Lock()  # job threads may make the first call together
        self.kind = kind
        self.deadline_seconds = deadline_seconds
        self.max_retries = max_retries
        self.attempt_seconds = attempt_seconds

    @classmethod
    def from_settings(
        cls, settings: Settings, kind: LlmKind, *, deadline_seconds: float, max_retries: int
    ) -> DeadlineCalls:
        return cls(
            lambda: _openai_client(settings),
            kind=kind,
            deadline_seconds=deadline_seconds,
            max_retries=max_retries,
            attempt_seconds=settings.openai_timeout_seconds,
        )

    @property
    def client(self) -> openai.OpenAI:
        return self.connect()

    def connect(self) -> openai.OpenAI:
        """The client, made the first time (which imports openai)."""
        with self._connecting:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def call(self, attempt: Callable[[float], Answered[T]]) -> Answered[T]:
        """`attempt(timeout)` once, and again after a transient failure while time is left.
        Raises LLMFailure when no attempt answered."""
        started = time.monotonic()
        deadline = started + self.deadline_seconds
        try:
            # Before the first attempt's timeout is reckoned: on the first call, importing
            # openai and making the client count in the deadline too.
            self.connect()
            answered = self._attempts(attempt, deadline)
        except LLMFailure as failure:
            LLM_CALLS.labels(self.kind.value, failure.outcome.value).inc()
            raise
        finally:
            LLM_SECONDS.labels(self.kind.value).observe(time.monotonic() - started)
        LLM_CALLS.labels(self.kind.value, Outcome.ok.value).inc()
        LLM_TOKENS.labels(self.kind.value, "input").inc(answered.usage.input_tokens)
        LLM_TOKENS.labels(self.kind.value, "output").inc(answered.usage.output_tokens)
        return answered

    def _attempts(self, attempt: Callable[[float], Answered[T]], deadline: float) -> Answered[T]:
        import openai

        tries = 0
        while True:
            left = deadline - time.monotonic()
            if left < MIN_ATTEMPT_SECONDS:
                raise LLMFailure("llm_timeout", Outcome.timeout)
            try:
                return attempt(min(left, self.attempt_seconds))
            except (openai.OpenAIError, ValueError, LLMFailure) as error:
                failure, retryable = classify(error)
                wait = _retry_after(error) or min(_BACKOFF_SECONDS * 2**tries, _MAX_BACKOFF_SECONDS)
                in_time = time.monotonic() + wait + MIN_ATTEMPT_SECONDS <= deadline
                if not (retryable and tries < self.max_retries and in_time):
                    raise failure from error
            time.sleep(wait)
            tries += 1


def classify(error: Exception) -> tuple[LLMFailure, bool]:
    """The failure an error stands for, and whether trying again may help."""
    import openai

    if isinstance(error, LLMFailure):
        return error, False
    if isinstance(error, openai.APITimeoutError):
        return LLMFailure("llm_timeout", Outcome.timeout), True
    if isinstance(error, openai.LengthFinishReasonError):
        return LLMFailure("llm_output_limit"), False
    if isinstance(error, openai.ContentFilterFinishReasonError):
        return LLMFailure("llm_refusal", Outcome.refusal), False
    if isinstance(error, openai.RateLimitError):
        if error.code == "insufficient_quota":  # the account's credit: waiting will not help
            return LLMFailure("llm_budget_exhausted", Outcome.budget), False
        return LLMFailure("llm_rate_limited", Outcome.rate_limited), True
    if isinstance(error, openai.APIConnectionError):
        return LLMFailure("llm_error"), True
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        return LLMFailure("llm_error"), status in _RETRIED_STATUSES or status >= 500
    if isinstance(error, (ValidationError, ValueError)):  # includes JSON decode errors
        return LLMFailure("llm_schema_error"), False
    return LLMFailure("llm_error"), False


def _openai_client(settings: Settings) -> openai.OpenAI:
    from bot.coaching.openai_client import openai_client

    return openai_client(settings)


def _retry_after(error: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms or Retry-After), if it did."""
    response = getattr(error, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            value = headers["retry-after"]
            if value.replace(".", "", 1).isdigit():
                return float(value)
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        pass
    return None


def refused(response: object) -> bool:
    """Whether a Responses API answer is a refusal (Chat Completions has `message.refusal`)."""
    return any(
        part.type == "refusal"
        for item in response.output
        for part in getattr(item, "content", None) or []
    )


def usage_of(usage: object) -> TokenUsage:
    """The tokens of either API's usage object (the Responses API's or Chat Completions'), none
    when the server sent no usage, as some compatible servers do."""
    if usage is None:
        return TokenUsage()
    if hasattr(usage, "input_tokens"):
        sent, details, written = usage.input_tokens, usage.input_tokens_details, usage.output_tokens
    else:
        sent, details = usage.prompt_tokens, usage.prompt_tokens_details
        written = usage.completion_tokens
    cached = (getattr(details, "cached_tokens", None) or 0) if details else 0
    return TokenUsage(input_tokens=sent, cached_input_tokens=cached, output_tokens=written)
