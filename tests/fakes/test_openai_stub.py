"""The OpenAI stub, exercised through the real `openai` client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Literal

import openai
import pydantic
import pytest
from pydantic import BaseModel

from bot.fakes.openai_stub import OpenAIStub, StubReply, TokenUsage

MODEL = "gpt-test"


class Verdict(BaseModel):
    step: str
    score: int


@pytest.fixture(scope="module")
def running_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def stub(running_stub: OpenAIStub) -> OpenAIStub:
    running_stub.reset()
    return running_stub


@pytest.fixture
def client(stub: OpenAIStub) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0, timeout=2.0)


def test_responses_parse_returns_the_structured_output(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.json({"step": "acknowledge", "score": 3}))

    response = client.responses.parse(
        model=MODEL,
        instructions="You are a coach.",
        input="Rate this reply.",
        text_format=Verdict,
        store=False,
        max_output_tokens=300,
    )

    assert response.output_parsed == Verdict(step="acknowledge", score=3)
    assert response.status == "completed"
    assert response.usage is not None and response.usage.total_tokens > 0
    sent = stub.requests[-1]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == "Bearer test"
    assert sent.body["store"] is False
    assert sent.body["max_output_tokens"] == 300
    assert sent.body["text"]["format"]["type"] == "json_schema"


def test_chat_completions_parse_returns_the_structured_output(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.json({"step": "solve", "score": 5}))

    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "system", "content": "coach"}, {"role": "user", "content": "hi"}],
        response_format=Verdict,
    )

    assert completion.choices[0].message.parsed == Verdict(step="solve", score=5)
    assert stub.requests[-1].path == "/v1/chat/completions"
    assert stub.requests[-1].body["messages"][0]["role"] == "system"


def test_plain_text_and_explicit_usage(stub: OpenAIStub, client: openai.OpenAI) -> None:
    stub.enqueue(StubReply.text("Well done.", usage=TokenUsage(input_tokens=40, output_tokens=3)))

    response = client.responses.create(model=MODEL, input="hello")

    assert response.output_text == "Well done."
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (40, 3)
    assert response.usage.total_tokens == 43


def test_replies_are_served_in_order_across_both_endpoints(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.text("first"), StubReply.text("second"))

    first = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "1"}])
    second = client.responses.create(model=MODEL, input="2")

    assert first.choices[0].message.content == "first"
    assert second.output_text == "second"
    assert stub.pending == 0


def test_refusal_surfaces_as_a_refusal_on_both_endpoints(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.refusal("I can't help with that."), StubReply.refusal("No."))

    response = client.responses.parse(model=MODEL, input="x", text_format=Verdict)
    completion = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "x"}], response_format=Verdict
    )

    content = response.output[0].content[0]
    assert content.type == "refusal" and content.refusal == "I can't help with that."
    assert response.output_parsed is None
    assert completion.choices[0].message.refusal == "No."
    assert completion.choices[0].message.parsed is None


def test_truncated_answer_is_incomplete_or_a_length_error(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.truncated('{"step": "ack'), StubReply.truncated('{"step": "ack'))

    response = client.responses.create(model=MODEL, input="x", max_output_tokens=5)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"

    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(
            model=MODEL, messages=[{"role": "user", "content": "x"}], response_format=Verdict
        )


def test_rate_limit_with_retry_after_is_retried_by_the_client(stub: OpenAIStub) -> None:
    stub.enqueue(StubReply.error(429, retry_after=0.05), StubReply.json({"step": "a", "score": 1}))
    client = openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=1)

    response = client.responses.parse(model=MODEL, input="x", text_format=Verdict)

    assert response.output_parsed == Verdict(step="a", score=1)
    assert len(stub.requests) == 2


def test_error_shape_reaches_the_client(stub: OpenAIStub, client: openai.OpenAI) -> None:
    stub.enqueue(StubReply.error(503, "overloaded", code="server_busy"))

    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model=MODEL, input="x")

    assert caught.value.status_code == 503
    assert caught.value.code == "server_busy"
    assert caught.value.type == "server_error"
    assert "overloaded" in caught.value.message


def test_unscripted_call_fails_loudly(stub: OpenAIStub, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="no scripted reply"):
        client.responses.create(model=MODEL, input="x")


def test_settable_default_is_served_when_the_queue_is_empty(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.default = StubReply.text("always")

    answers = [client.responses.create(model=MODEL, input="x").output_text for _ in range(2)]

    assert answers == ["always", "always"]


def test_hang_longer_than_the_client_timeout_raises_a_timeout(stub: OpenAIStub) -> None:
    stub.enqueue(StubReply.hang(5.0))
    client = openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.responses.create(model=MODEL, input="x")

    assert time.monotonic() - started < 1.0


def test_delay_on_any_reply(stub: OpenAIStub, client: openai.OpenAI) -> None:
    stub.enqueue(StubReply.text("slow").after(0.2))

    started = time.monotonic()
    client.responses.create(model=MODEL, input="x")

    assert time.monotonic() - started >= 0.2


def test_malformed_structured_output_fails_validation(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.malformed("{not json"), StubReply.json({"step": "a"}))

    with pytest.raises(pydantic.ValidationError, match="Invalid JSON"):
        client.responses.parse(model=MODEL, input="x", text_format=Verdict)
    with pytest.raises(pydantic.ValidationError, match="score"):  # valid JSON, `score` missing
        client.responses.parse(model=MODEL, input="x", text_format=Verdict)


def test_invalid_body_cannot_be_decoded(stub: OpenAIStub, client: openai.OpenAI) -> None:
    stub.enqueue(StubReply.invalid_body())

    with pytest.raises(json.JSONDecodeError):
        client.responses.create(model=MODEL, input="x")


def test_requests_without_a_model_are_rejected_like_openai(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.text("unused"))

    with pytest.raises(openai.BadRequestError, match="model"):
        client.post("/responses", body={"input": "x"}, cast_to=object)

    assert stub.pending == 1  # a rejected request does not consume the script


def test_a_dripping_answer_outlasts_a_read_timeout_without_tripping_it(stub: OpenAIStub) -> None:
    stub.enqueue(StubReply.text("slow but steady").dripping(0.001))
    client = openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0, timeout=0.5)

    started = time.monotonic()
    response = client.responses.create(model=MODEL, input="x")

    # Every read got a byte well within 0.5 s, so the whole answer took longer than the timeout.
    assert response.output_text == "slow but steady"
    assert time.monotonic() - started > 0.5


def test_an_answering_reply_is_chosen_from_the_request(stub: OpenAIStub, client) -> None:
    def echo(request) -> StubReply:
        return StubReply.text(f"you said {request.body['input']}")

    stub.default = StubReply.answering(echo)

    answers = [client.responses.create(model=MODEL, input=said).output_text for said in "ab"]

    assert answers == ["you said a", "you said b"]


class Nested(BaseModel):
    verdict: Verdict
    steps: list[Verdict]
    kind: Literal["apologize", "act"]
    done: bool


def test_automatic_default_answers_structured_requests_with_a_valid_instance(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.default = StubReply.automatic()

    response = client.responses.parse(
        model=MODEL, input="Rate this.", text_format=Nested, store=False
    )
    completion = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "Rate this."}], response_format=Nested
    )

    expected = Nested(verdict=Verdict(step="", score=0), steps=[], kind="apologize", done=False)
    assert response.output_parsed == expected
    assert completion.choices[0].message.parsed == expected


def test_automatic_default_answers_plain_requests_with_its_text(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.default = StubReply.automatic("Where is my parcel?")

    response = client.responses.create(model=MODEL, input="Speak as the customer.")

    assert response.output_text == "Where is my parcel?"


def test_latency_range_is_drawn_per_call_within_its_bounds(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.default = StubReply.automatic(delay=0.05, max_delay=0.25)

    for _ in range(4):
        client.responses.create(model=MODEL, input="hi")

    delays = [answer.delay for answer in stub.served]
    assert all(0.05 <= delay <= 0.25 for delay in delays)
    assert len(set(delays)) == 4  # drawn, not fixed


def test_streamed_chat_completion_arrives_with_its_usage(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.text("Hello there, how can I help?"))

    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, how can I help?"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_served_answers_record_the_usage_the_client_was_told(
    stub: OpenAIStub, client: openai.OpenAI
) -> None:
    stub.enqueue(StubReply.text("ok"), StubReply.error(500))
    client_response = client.responses.create(model=MODEL, input="x" * 400)
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model=MODEL, input="again")

    (served,) = stub.served  # the error is not an answer
    assert client_response.usage is not None
    assert served.usage.input_tokens == client_response.usage.input_tokens
    assert served.usage.output_tokens == client_response.usage.output_tokens
