"""An OpenAI-compatible server on loopback, scripted reply by reply.

The real `openai` client talks to it over HTTP, so its retries, timeouts and structured-output
parsing run exactly as in production:

    with OpenAIStub() as stub:
        stub.enqueue(StubReply.error(429, retry_after=0.05), StubReply.json({"tone": "calm"}))
        client = openai.OpenAI(base_url=stub.base_url, api_key="test")
        client.responses.parse(model="gpt-test", input="...", text_format=Tone)
        assert stub.requests[-1].body["store"] is False

Replies are served first in, first out across both endpoints (`POST /v1/responses` and
`POST /v1/chat/completions`) and each is rendered in the shape of the endpoint that asked.

For load tests, `StubReply.automatic(delay=2, max_delay=8)` as the default answers every request
by itself: a minimal instance of the JSON schema the request asks for (structured output), else a
fixed text; streamed chat completions are answered as server-sent events.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Self

from bot.fakes._loopback import HttpRequest, HttpResponse, LoopbackServer

RESPONSES_PATH = "/v1/responses"
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"

# OpenAI's error `type` for each status it answers with, and the message a bare error gets.
_ERROR_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("invalid_request_error", "Incorrect API key provided."),
    404: ("invalid_request_error", "The requested resource does not exist."),
    429: ("requests", "Rate limit reached. Please try again later."),
    500: ("server_error", "The server had an error while processing your request."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}
_CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text


class ReplyKind(Enum):
    TEXT = "text"
    REFUSAL = "refusal"
    TRUNCATED = "truncated"  # the model ran out of output tokens mid-answer
    ERROR = "error"
    INVALID_BODY = "invalid_body"
    AUTOMATIC = "automatic"  # an instance of the requested JSON schema, else `content`


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class StubReply:
    """One scripted answer. Build it with the class methods rather than the constructor."""

    kind: ReplyKind
    content: str = ""  # the answer text, refusal, error message or raw body, by kind
    status: int = 200
    error_code: str | None = None
    retry_after: float | None = None
    delay: float = 0.0  # seconds to wait before answering
    max_delay: float | None = None  # when set, the wait is uniform in [delay, max_delay]
    usage: TokenUsage | None = None  # None: estimated from the request and the answer
    drip: float = 0.0  # seconds between the bytes of the answer's body
    # Chooses the reply from the request, when set (a model that reads what it is sent).
    respond: Callable[[RecordedRequest], StubReply] | None = None

    @classmethod
    def text(cls, text: str, *, delay: float = 0.0, usage: TokenUsage | None = None) -> Self:
        return cls(ReplyKind.TEXT, text, delay=delay, usage=usage)

    @classmethod
    def json(cls, obj: Any, *, delay: float = 0.0, usage: TokenUsage | None = None) -> Self:
        """Structured output: the model's text is `obj` serialised as JSON."""
        return cls.text(json.dumps(obj), delay=delay, usage=usage)

    @classmethod
    def malformed(cls, raw_text: str, *, delay: float = 0.0) -> Self:
        """Text that is not valid JSON, or JSON that does not match the requested schema."""
        return cls.text(raw_text, delay=delay)

    @classmethod
    def refusal(cls, refusal: str, *, delay: float = 0.0) -> Self:
        return cls(ReplyKind.REFUSAL, refusal, delay=delay)

    @classmethod
    def truncated(cls, partial_text: str, *, delay: float = 0.0) -> Self:
        """The answer was cut off by `max_output_tokens` / `max_completion_tokens`."""
        return cls(ReplyKind.TRUNCATED, partial_text, delay=delay)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> Self:
        """An HTTP error in OpenAI's `{"error": {...}}` shape, with `Retry-After` when given."""
        return cls(
            ReplyKind.ERROR,
            message or _error_kind(status)[1],
            status=status,
            error_code=code,
            retry_after=retry_after,
            delay=delay,
        )

    @classmethod
    def invalid_body(cls, raw_body: str = "<html><body>502 Bad Gateway</body></html>") -> Self:
        """HTTP 200 labelled as JSON whose body is not JSON, as a misbehaving proxy sends."""
        return cls(ReplyKind.INVALID_BODY, raw_body)

    @classmethod
    def hang(cls, seconds: float) -> Self:
        """Answer only after `seconds`, so the client's timeout fires first."""
        return cls.text("", delay=seconds)

    @classmethod
    def answering(cls, respond: Callable[[RecordedRequest], StubReply]) -> Self:
        """The reply `respond` chooses for each request, e.g. a model that obeys instructions it
        finds in what it is sent. Meant as `stub.default`."""
        return cls(ReplyKind.TEXT, respond=respond)

    @classmethod
    def automatic(
        cls,
        text: str = "Thanks, that helps. Please sort it out today.",
        *,
        delay: float = 0.0,
        max_delay: float | None = None,
    ) -> Self:
        """Answers any request: a minimal instance of its JSON schema when it asks for
        structured output, else `text`. Meant as `stub.default` for load tests."""
        return cls(ReplyKind.AUTOMATIC, text, delay=delay, max_delay=max_delay)

    def after(self, seconds: float) -> Self:
        """This reply, answered after `seconds`."""
        return replace(self, delay=seconds)

    def dripping(self, seconds: float) -> Self:
        """This reply with its body sent one byte every `seconds`: each read gets data well
        within any timeout, and yet the answer never seems to end."""
        return replace(self, drip=seconds)

    def wait(self, rng: random.Random) -> float:
        """Seconds to wait before answering: `delay`, or a draw up to `max_delay`."""
        if self.max_delay is None or self.max_delay <= self.delay:
            return self.delay
        return rng.uniform(self.delay, self.max_delay)


NO_SCRIPTED_REPLY = StubReply.error(
    400,
    "OpenAIStub has no scripted reply for this request: call stub.enqueue(...) or set "
    "stub.default.",
    code="no_scripted_reply",
)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # the parsed JSON body; None when it was not JSON


@dataclass(frozen=True)
class ServedAnswer:
    """What the stub answered, with the token usage it reported (the stub's accounting)."""

    path: str
    usage: TokenUsage
    delay: float


class OpenAIStub:
    """The server: `enqueue` replies, point a client at `base_url`, read back `requests`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 0) -> None:
        self.default = NO_SCRIPTED_REPLY  # served whenever the queue is empty
        self._queue: deque[StubReply] = deque()
        self._requests: list[RecordedRequest] = []
        self._served: list[ServedAnswer] = []
        self._rng = random.Random(seed)  # latency draws, reproducible run to run
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle, host=host, port=port)

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{self._server.origin}/v1"

    def enqueue(self, *replies: StubReply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not served yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def served(self) -> list[ServedAnswer]:
        """Every answer other than an error, in the order it was sent."""
        with self._lock:
            return list(self._served)

    def reset(self) -> None:
        """Forget the script, the recorded requests and any changed default."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._served.clear()
        self.default = NO_SCRIPTED_REPLY

    def _handle(self, request: HttpRequest) -> HttpResponse:
        body = _parse_json(request.body)
        recorded = RecordedRequest(request.path, request.headers, body)
        with self._lock:
            self._requests.append(recorded)
        rejection = _reject(request, body)
        if rejection is not None:
            return rejection
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.default
        if reply.respond is not None:
            reply = reply.respond(recorded)
        with self._lock:
            delay = reply.wait(self._rng)
        self._server.sleep(delay)
        if reply.kind is ReplyKind.AUTOMATIC:
            reply = replace(reply, kind=ReplyKind.TEXT, content=_automatic_text(reply, body))
        if reply.kind is ReplyKind.ERROR:
            return _render_error(reply)
        if reply.kind is ReplyKind.INVALID_BODY:
            return HttpResponse(200, reply.content.encode(), content_type="application/json")
        usage = reply.usage or _estimate_usage(body, reply.content)
        with self._lock:
            self._served.append(ServedAnswer(request.path, usage, delay))
        return replace(_render(reply, request.path, body, usage), drip=reply.drip)


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _reject(request: HttpRequest, body: Any) -> HttpResponse | None:
    """OpenAI's answer to a request it would not run, or None for a well-formed one."""
    if request.method != "POST" or request.path not in (RESPONSES_PATH, CHAT_COMPLETIONS_PATH):
        message = f"Invalid URL ({request.method} {request.path})"
        return _render_error(StubReply.error(404, message))
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return _render_error(StubReply.error(401, "You didn't provide an API key."))
    if not isinstance(body, dict):
        return _render_error(StubReply.error(400, "We could not parse the JSON body."))
    if "model" not in body:
        return _render_error(StubReply.error(400, "you must provide a model parameter"))
    if body.get("stream") and request.path != CHAT_COMPLETIONS_PATH:
        message = "OpenAIStub streams only chat completions."
        return _render_error(StubReply.error(400, message))
    return None


def _render(
    reply: StubReply, path: str, request_body: dict[str, Any], usage: TokenUsage
) -> HttpResponse:
    """A successful answer (text, refusal or truncation) in the shape of the endpoint asked."""
    if path == RESPONSES_PATH:
        body = _response_object(reply, request_body, usage)
    elif request_body.get("stream"):
        return _chat_completion_stream(reply, request_body, usage)
    else:
        body = _chat_completion_object(reply, request_body, usage)
    return HttpResponse.json(body, headers={"x-request-id": _new_id("req_")})


def _render_error(reply: StubReply) -> HttpResponse:
    body = {
        "error": {
            "message": reply.content,
            "type": _error_kind(reply.status)[0],
            "param": None,
            "code": reply.error_code,
        }
    }
    headers = {"x-request-id": _new_id("req_")}
    if reply.retry_after is not None:
        # The client prefers the millisecond header, which keeps sub-second waits exact.
        headers["retry-after-ms"] = str(round(reply.retry_after * 1000))
        headers["retry-after"] = str(max(1, round(reply.retry_after)))
    return HttpResponse.json(body, status=reply.status, headers=headers)


def _error_kind(status: int) -> tuple[str, str]:
    return _ERROR_KINDS.get(status, ("api_error", "The request failed."))


def _response_object(
    reply: StubReply, request: dict[str, Any], usage: TokenUsage
) -> dict[str, Any]:
    """A `Response` object of the Responses API, echoing the request's settings as OpenAI does."""
    truncated = reply.kind is ReplyKind.TRUNCATED
    if reply.kind is ReplyKind.REFUSAL:
        content = {"type": "refusal", "refusal": reply.content}
    else:
        content = {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
    created_at = int(time.time())
    return {
        "id": _new_id("resp_"),
        "object": "response",
        "created_at": created_at,
        "completed_at": None if truncated else created_at,
        "status": "incomplete" if truncated else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "error": None,
        "model": request["model"],
        "output": [
            {
                "type": "message",
                "id": _new_id("msg_"),
                "role": "assistant",
                "status": "incomplete" if truncated else "completed",
                "content": [content],
            }
        ],
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": request.get("metadata", {}),
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": request.get("text", {"format": {"type": "text"}}),
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools", []),
        "top_p": request.get("top_p", 1.0),
        "truncation": request.get("truncation", "disabled"),
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {
                "cached_tokens": usage.cached_tokens,
                "cache_write_tokens": 0,
            },
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.total_tokens,
        },
    }


def _chat_completion_object(
    reply: StubReply, request: dict[str, Any], usage: TokenUsage
) -> dict[str, Any]:
    refused = reply.kind is ReplyKind.REFUSAL
    return {
        "id": _new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if refused else reply.content,
                    "refusal": reply.content if refused else None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if reply.kind is ReplyKind.TRUNCATED else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": usage.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_openai_stub",
    }


def _chat_completion_stream(
    reply: StubReply, request: dict[str, Any], usage: TokenUsage
) -> HttpResponse:
    """The answer as server-sent `chat.completion.chunk` events, sent at once after the delay."""
    completion_id, created = _new_id("chatcmpl-"), int(time.time())

    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": request["model"],
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    def delta(content: dict[str, str], finish_reason: str | None = None) -> str:
        return event(
            [{"index": 0, "delta": content, "logprobs": None, "finish_reason": finish_reason}]
        )

    words = reply.content.split(" ")
    events = [delta({"role": "assistant", "content": ""})]
    events += [delta({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    events.append(delta({}, "length" if reply.kind is ReplyKind.TRUNCATED else "stop"))
    if (request.get("stream_options") or {}).get("include_usage"):
        totals = {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        }
        events.append(event([], usage=totals))
    events.append("data: [DONE]\n\n")
    return HttpResponse(200, "".join(events).encode(), content_type="text/event-stream")


def _automatic_text(reply: StubReply, request: dict[str, Any]) -> str:
    schema = _requested_schema(request)
    return reply.content if schema is None else json.dumps(_instance_of(schema, schema))


def _requested_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of a structured-output request (either API's shape), else None."""
    text_format = (request.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        return text_format.get("schema")
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema")
    return None


def _instance_of(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """The smallest value `schema` accepts: first enum or const, empty lists, every property."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _instance_of(root.get("$defs", {})[name], root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            return _instance_of(schema[union][0], root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _instance_of(sub, root) for name, sub in properties.items()}
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(kind)


def _estimate_usage(request: dict[str, Any], answer: str) -> TokenUsage:
    prompt = json.dumps(
        [request.get("instructions"), request.get("input"), request.get("messages")]
    )
    return TokenUsage(
        input_tokens=max(1, len(prompt) // _CHARS_PER_TOKEN),
        output_tokens=max(1, len(answer) // _CHARS_PER_TOKEN),
    )


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)
