"""A failing or hanging model costs the user at most the deadline (retries included), and the
offline answer goes out, labelled with why: the real `openai` client against the stub
(issue 12, "Limits and logs at the edge" and the LLM row of "Fault tests")."""

from __future__ import annotations

import time

import pytest

from bot.coaching.critique import CritiqueRequest, EngineName
from bot.coaching.offline import OfflineCritiqueEngine
from bot.fakes.openai_stub import StubReply, TokenUsage
from bot.metrics import REGISTRY

from .model_answers import answer, llm_engine, step

REPLY = "I'm sorry your order is late. We'll look into it and get back to you."
GOOD = answer(apologize=step(2, "I'm sorry your order is late."))
DEADLINE = 1.0
# Time the offline answer may take on top of the deadline on a loaded 2-core machine.
MARGIN = 0.75


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def critique_within_the_deadline(stub, api="responses", deadline=DEADLINE, **settings):
    # The defaults otherwise: OPENAI_TIMEOUT_SECONDS=20 a try, OPENAI_MAX_RETRIES=2.
    settings.setdefault("openai_max_retries", 2)
    engine = llm_engine(stub, api, critique_deadline_seconds=deadline, **settings)
    return timed(lambda: engine.critique(CritiqueRequest(agent_reply=REPLY)))


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (StubReply.hang(30), "llm_timeout"),
        (StubReply.json(GOOD).dripping(0.05), "llm_timeout"),
        (StubReply.error(429, retry_after=30), "llm_rate_limited"),
        (StubReply.error(500), "llm_error"),
        (StubReply.malformed('{"apologize": '), "llm_schema_error"),
        (StubReply.refusal("I can't help with that."), "llm_refusal"),
    ],
    ids=["hanging", "slow-dripping", "429-retry-after-30s", "500", "malformed-json", "refusal"],
)
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_the_offline_answer_comes_within_the_deadline_labelled(stub, api, reply, reason):
    stub.default = reply

    result, took = critique_within_the_deadline(stub, api)

    assert took < DEADLINE + MARGIN
    assert result.engine is EngineName.offline and result.fallback_reason == reason
    offline = OfflineCritiqueEngine().critique(CritiqueRequest(agent_reply=REPLY))
    assert result.scores() == offline.scores() and result.rewrite == offline.rewrite


def test_a_retry_after_that_the_deadline_cannot_wait_for_is_not_waited_for(stub):
    stub.default = StubReply.error(429, retry_after=30)

    _, took = critique_within_the_deadline(stub)

    assert took < 0.5 and len(stub.requests) == 1


def test_a_short_retry_after_is_waited_and_the_model_answers(stub):
    stub.enqueue(StubReply.error(429, retry_after=0.2), StubReply.json(GOOD))

    result, took = critique_within_the_deadline(stub)

    assert result.engine is EngineName.llm and len(stub.requests) == 2
    assert 0.2 <= took < DEADLINE


def test_a_timed_out_try_is_tried_again_while_time_is_left(stub):
    stub.enqueue(StubReply.hang(30), StubReply.json(GOOD))

    result, took = critique_within_the_deadline(stub, deadline=2.0, openai_timeout_seconds=0.3)

    assert result.engine is EngineName.llm and len(stub.requests) == 2
    assert took < 2.0


def test_server_errors_are_retried_only_as_often_as_the_deadline_allows(stub):
    stub.default = StubReply.error(503)

    result, took = critique_within_the_deadline(stub, openai_max_retries=10)

    assert result.fallback_reason == "llm_error"
    assert 2 <= len(stub.requests) <= 3  # backoff 0.5 s, then 1 s: the deadline ends it
    assert took < DEADLINE + MARGIN


def _calls(kind: str, outcome: str) -> float:
    labels = {"kind": kind, "outcome": outcome}
    return REGISTRY.get_sample_value("asap_llm_calls_total", labels) or 0.0


def _tokens(kind: str, direction: str) -> float:
    labels = {"kind": kind, "direction": direction}
    return REGISTRY.get_sample_value("asap_llm_tokens_total", labels) or 0.0


def test_every_call_is_counted_with_its_outcome_time_and_tokens(stub):
    before = {
        "ok": _calls("critique", "ok"),
        "timeout": _calls("critique", "timeout"),
        "rate_limited": _calls("critique", "rate_limited"),
        "input": _tokens("critique", "input"),
        "output": _tokens("critique", "output"),
        "timed": REGISTRY.get_sample_value("asap_llm_seconds_count", {"kind": "critique"}) or 0,
    }
    stub.enqueue(
        StubReply.json(GOOD, usage=TokenUsage(input_tokens=700, output_tokens=90)),
        StubReply.hang(30),
        StubReply.error(429, retry_after=30),
    )
    for _ in range(3):
        critique_within_the_deadline(stub)

    assert _calls("critique", "ok") == before["ok"] + 1
    assert _calls("critique", "timeout") == before["timeout"] + 1
    assert _calls("critique", "rate_limited") == before["rate_limited"] + 1
    assert _tokens("critique", "input") == before["input"] + 700
    assert _tokens("critique", "output") == before["output"] + 90
    timed_calls = REGISTRY.get_sample_value("asap_llm_seconds_count", {"kind": "critique"})
    assert timed_calls == before["timed"] + 3
