"""LLM use per person and per workspace (issue 12, "Data protection"): LLM critiques per person
per hour, and a workspace's tokens per calendar month, the practice customer's included. When
one is used up the offline engine answers, labelled, and the person is told why. On SQLite and
PostgreSQL; the LLM through the real `openai` client against the stub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.coaching.allowance import ALLOWED, LlmAllowance, Refused
from bot.coaching.critique import CritiqueRequest, EngineName, TokenUsage
from bot.coaching.engines import for_user
from bot.coaching.offline import OfflineCritiqueEngine
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.persona_offline import OfflinePersona
from bot.coaching.practice.service import PracticeSessions, Replied
from bot.fakes.openai_stub import StubReply
from bot.fakes.openai_stub import TokenUsage as StubUsage
from bot.metrics import REGISTRY
from bot.settings import load_settings
from bot.store.models import LlmKind, LlmUse

from .model_answers import answer, llm_engine, step

REPLY = "I'm sorry your order is late. We'll look into it and get back to you."
GOOD = answer(apologize=step(2, "I'm sorry your order is late."))
NOON = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


def allowance(database, clock, *, per_hour: int = 0, monthly: int = 0) -> LlmAllowance:
    return LlmAllowance(database, critiques_per_hour=per_hour, monthly_tokens=monthly, clock=clock)


def used(tokens: int = 0) -> TokenUsage:
    return TokenUsage(input_tokens=tokens, output_tokens=0)


def test_a_person_gets_so_many_llm_critiques_an_hour(database, clock):
    limits = allowance(database, clock, per_hour=2)
    for minutes in (0, 20):
        clock.now = NOON + timedelta(minutes=minutes)
        assert limits.check("T1", "U1", LlmKind.critique) is ALLOWED
        limits.spend("T1", "U1", LlmKind.critique, used(500))

    refused = limits.check("T1", "U1", LlmKind.critique)

    assert isinstance(refused, Refused) and refused.reason == "llm_hourly_limit"
    assert "2 AI critiques in the past hour" in refused.message
    assert "13:00 UTC" in refused.message  # when the first of the two is an hour old
    # Someone else, the same person id in another workspace, and the practice customer's words
    # are not held back by it.
    assert limits.check("T1", "U2", LlmKind.critique) is ALLOWED
    assert limits.check("T2", "U1", LlmKind.critique) is ALLOWED
    assert limits.check("T1", "U1", LlmKind.persona) is ALLOWED
    clock.now = NOON + timedelta(hours=1, minutes=1)
    assert limits.check("T1", "U1", LlmKind.critique) is ALLOWED


def test_a_workspace_spends_so_many_tokens_a_month_persona_tokens_included(database, clock):
    limits = allowance(database, clock, monthly=1_000)
    limits.spend("T1", "U1", LlmKind.critique, used(600))
    limits.spend("T1", "U2", LlmKind.persona, used(400))

    refused = limits.check("T1", "U3", LlmKind.persona)

    assert isinstance(refused, Refused) and refused.reason == "llm_monthly_budget"
    assert "December (1,000 tokens)" in refused.message and "1 January" in refused.message
    assert limits.check("T2", "U1", LlmKind.critique) is ALLOWED
    clock.now = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)
    assert limits.check("T1", "U3", LlmKind.critique) is ALLOWED


def test_no_limits_when_they_are_zero(database, clock):
    limits = allowance(database, clock)
    for _ in range(5):
        limits.spend("T1", "U1", LlmKind.critique, used(10**9))
    assert limits.check("T1", "U1", LlmKind.critique) is ALLOWED


def test_the_engine_on_someones_behalf_spends_their_allowance_then_answers_offline(
    database, clock, stub
):
    engine = llm_engine(stub)
    engine.allowance = allowance(database, clock, per_hour=1)
    stub.default = StubReply.json(GOOD, usage=StubUsage(input_tokens=800, output_tokens=150))
    refused_before = REGISTRY.get_sample_value(
        "asap_llm_calls_total", {"kind": "critique", "outcome": "budget"}
    )

    first = for_user(engine, "T1", "U1").critique(CritiqueRequest(agent_reply=REPLY))
    second = for_user(engine, "T1", "U1").critique(CritiqueRequest(agent_reply=REPLY))

    assert first.engine is EngineName.llm
    assert second.engine is EngineName.offline and second.fallback_reason == "llm_hourly_limit"
    assert "1 AI critiques in the past hour" in second.notice
    assert len(stub.requests) == 1  # the model was not asked again
    assert (
        second.scores()
        == OfflineCritiqueEngine().critique(CritiqueRequest(agent_reply=REPLY)).scores()
    )
    with database.session() as session:
        (row,) = session.scalars(select(LlmUse)).all()
    assert (row.team_id, row.user_id, row.kind) == ("T1", "U1", LlmKind.critique)
    assert (row.input_tokens, row.output_tokens) == (800, 150)
    refused_after = REGISTRY.get_sample_value(
        "asap_llm_calls_total", {"kind": "critique", "outcome": "budget"}
    )
    assert refused_after == (refused_before or 0) + 1
    # Used on nobody's behalf (the CLI), the engine keeps to no allowance.
    assert engine.critique(CritiqueRequest(agent_reply=REPLY)).engine is EngineName.llm


def test_offline_engines_cost_nothing_and_come_back_as_they_are():
    offline, persona = OfflineCritiqueEngine(), OfflinePersona()
    assert for_user(offline, "T1", "U1") is offline
    assert for_user(persona, "T1", "U1") is persona


def test_a_practice_session_spends_the_trainees_allowance_and_ends_on_the_offline_engines(
    database, clock, stub
):
    settings = load_settings(
        _env_file=None,
        openai_api_key="sk-test",
        openai_base_url=stub.base_url,
        openai_max_retries=0,
        database_url=database.url,
    )
    limits = allowance(database, clock, monthly=3_000)
    critic = llm_engine(stub)
    critic.allowance = limits
    practice = PracticeSessions.from_settings(
        database, settings, critic=critic, persona=build_persona(settings, allowance=limits)
    )
    practice.start("T1", "U1", "insurance-claim-no-callback", Difficulty.upset, "C1")

    def model(request):
        if "text" in request.body and request.body["text"]["format"]["type"] == "json_schema":
            return StubReply.json(GOOD, usage=StubUsage(input_tokens=2_000, output_tokens=500))
        return StubReply.text(
            "So when, exactly?", usage=StubUsage(input_tokens=900, output_tokens=20)
        )

    stub.default = StubReply.answering(model)

    first = practice.reply("T1", "U1", REPLY)
    second = practice.reply("T1", "U1", REPLY)

    assert isinstance(first, Replied) and first.customer == "So when, exactly?"
    assert isinstance(second, Replied) and second.customer != "So when, exactly?"
    assert len(stub.requests) == 2  # one critique and one customer line, then the budget was spent
    with database.session() as session:
        kinds = [(row.team_id, row.user_id, row.kind) for row in session.scalars(select(LlmUse))]
    assert sorted(kinds) == [("T1", "U1", LlmKind.critique), ("T1", "U1", LlmKind.persona)]
