"""The LLM persona through the real `openai` client against the OpenAI stub: in character, never
in charge of the mood, and falling back to the offline line whenever its text can't be used."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import openai
import pytest

from bot.coaching.llm_calls import DeadlineCalls
from bot.coaching.practice.engines import build_persona
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.persona_llm import MAX_MESSAGE_CHARS, LlmPersona
from bot.fakes.openai_stub import OpenAIStub, StubReply
from bot.settings import OpenAIApi, Settings
from bot.store.models import LlmKind, SessionStatus

from .conftest import INJECTION

SCENARIO = "insurance-claim-no-callback"
VAGUE = "We'll look into it."


@pytest.fixture(scope="module")
def running_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def stub(running_stub: OpenAIStub) -> OpenAIStub:
    running_stub.reset()
    return running_stub


@pytest.fixture
def llm_persona(stub, offline_persona):
    def make(api: OpenAIApi = OpenAIApi.responses) -> LlmPersona:
        calls = DeadlineCalls(
            lambda: openai.OpenAI(base_url=stub.base_url, api_key="test", max_retries=0),
            kind=LlmKind.persona,
            deadline_seconds=0.5,
            max_retries=0,
            attempt_seconds=0.5,
        )
        return LlmPersona(calls, model="gpt-test", api=api, fallback=offline_persona)

    return make


def llm_and_offline_reply(make_roleplay, persona, reply: str):
    """The same turn played with the LLM persona and with the offline one."""
    with_llm = make_roleplay(SCENARIO, persona=persona).reply(reply)
    offline = make_roleplay(SCENARIO).reply(reply)
    return with_llm, offline


def test_the_models_in_character_message_is_the_customers_reply(stub, llm_persona, make_roleplay):
    stub.enqueue(StubReply.text("Looked into it? I've waited fourteen days. When, exactly?"))

    played = make_roleplay(SCENARIO, persona=llm_persona()).reply(VAGUE)

    assert played.customer.text == "Looked into it? I've waited fourteen days. When, exactly?"
    (request,) = stub.requests
    assert request.path == "/v1/responses"
    assert request.body["store"] is False
    assert request.body["max_output_tokens"] == 250
    assert "You are Graham" in request.body["instructions"]
    assert "unassigned queue" in request.body["instructions"]
    assert "Support agent: We'll look into it." in request.body["input"]
    assert "vague promise" in request.body["input"]
    assert "angry" in request.body["input"] or "upset" in request.body["input"]


def test_chat_completions_are_used_when_configured(stub, llm_persona, make_roleplay):
    stub.enqueue(StubReply.text("That's not an answer. Who is handling my claim?"))

    played = make_roleplay(SCENARIO, persona=llm_persona(OpenAIApi.chat)).reply(VAGUE)

    assert played.customer.text == "That's not an answer. Who is handling my claim?"
    body = stub.requests[-1].body
    assert stub.requests[-1].path == "/v1/chat/completions"
    assert body["messages"][0]["role"] == "system" and body["store"] is False
    assert body["max_completion_tokens"] == 250


def test_the_opening_is_the_scenarios_own_line_without_a_model_call(
    stub, llm_persona, make_roleplay
):
    roleplay = make_roleplay(SCENARIO, persona=llm_persona())

    assert roleplay.turns[0].text in roleplay.scenario.openings[Difficulty.upset]
    assert stub.requests == []


@pytest.mark.parametrize(
    "unusable",
    [
        StubReply.text("As your ASAP coach I'd score that reply 1 out of 2."),
        StubReply.text("As an AI language model, I cannot pretend to be upset."),
        StubReply.text("   "),
        StubReply.refusal("I can't help with that."),
        StubReply.truncated("Fourteen days and you"),
        StubReply.error(500),
        StubReply.invalid_body(),
    ],
    ids=["rubric", "out-of-role", "empty", "refusal", "truncated", "server-error", "bad-body"],
)
def test_unusable_model_output_falls_back_to_the_offline_line(
    stub, llm_persona, make_roleplay, unusable
):
    stub.enqueue(unusable)

    with_llm, offline = llm_and_offline_reply(make_roleplay, llm_persona(), VAGUE)

    assert with_llm.customer.text == offline.customer.text


def test_a_timeout_falls_back_to_the_offline_line_quickly(stub, llm_persona, make_roleplay):
    stub.enqueue(StubReply.hang(3))
    started = time.monotonic()

    with_llm, offline = llm_and_offline_reply(make_roleplay, llm_persona(), VAGUE)

    assert with_llm.customer.text == offline.customer.text
    assert time.monotonic() - started < 2


def test_slack_mentions_labels_and_quotes_are_stripped_and_length_capped(
    stub, llm_persona, make_roleplay
):
    long_tail = " And another thing." * 60
    stub.enqueue(
        StubReply.text('Graham: "<@U123ABC> <!channel> Fine. I will wait for the call."'),
        StubReply.text("This is absurd." + long_tail),
        StubReply.text('Don\'t you "calm down" me'),
    )
    roleplay = make_roleplay(SCENARIO, persona=llm_persona())

    stripped = roleplay.reply(VAGUE).customer.text
    capped = roleplay.reply("Hello?").customer.text
    inner_quotes_kept = roleplay.reply("Hello again?").customer.text

    assert stripped == "Fine. I will wait for the call."
    assert len(capped) <= MAX_MESSAGE_CHARS and capped.endswith("another thing.")
    assert inner_quotes_kept == 'Don\'t you "calm down" me'


def test_injected_orders_leave_mood_and_session_to_the_critique(stub, llm_persona, make_roleplay):
    stub.enqueue(StubReply.text("Oh, I'm completely satisfied now. Thank you!"))

    with_llm, offline = llm_and_offline_reply(make_roleplay, llm_persona(), INJECTION)

    assert with_llm.change == offline.change
    assert with_llm.change.delta >= 0
    assert with_llm.status is SessionStatus.active
    assert INJECTION in stub.requests[-1].body["input"]


def test_the_settings_choose_the_persona_and_its_timeout(stub, make_roleplay):
    settings = Settings(
        openai_api_key="test",
        openai_base_url=stub.base_url,
        openai_model="gpt-persona",
        openai_timeout_seconds=0.3,
        _env_file=None,
    )
    stub.enqueue(StubReply.text("Fine. Thursday, then."))

    persona = build_persona(settings)
    played = make_roleplay(SCENARIO, persona=persona).reply(VAGUE)

    assert persona.engine == "llm"
    assert played.customer.text == "Fine. Thursday, then."
    assert stub.requests[-1].body["model"] == "gpt-persona"
    assert build_persona(Settings(openai_api_key=None, _env_file=None)).engine == "offline"
    assert build_persona(settings, offline_only=True).engine == "offline"


def test_personal_data_in_the_agents_replies_never_reaches_the_model(
    stub, llm_persona, make_roleplay
):
    email, phone, card = "jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111"
    stub.enqueue(
        StubReply.text("Fine, write to [EMAIL_1] then. When?"),
        StubReply.text("And you'll call [PHONE_1]?"),
    )
    roleplay = make_roleplay(SCENARIO, persona=llm_persona())

    first = roleplay.reply(f"Calm down. I'll email {email} and refund card {card} today.")
    second = roleplay.reply(f"Calm down, policy is policy. I'll phone you on {phone}.")

    sent = json.dumps([request.body for request in stub.requests])
    assert len(stub.requests) == 2
    for value in (email, phone, card, "jane.doe", "7946 0958", "1111 1111"):
        assert value not in sent
    assert "[EMAIL_1]" in sent and "[CARD_1]" in sent and "[PHONE_1]" in sent
    assert first.customer.text == f"Fine, write to {email} then. When?"
    assert second.customer.text == f"And you'll call {phone}?"


def test_dotted_cards_ibans_and_local_phones_reach_the_model_as_placeholders_facts_as_written(
    stub, llm_persona, make_roleplay
):
    card, iban, phone = "4111.1111.1111.1111", "DE89 3704 0044 0532 0130 00", "555-0123"
    stub.enqueue(StubReply.text("To [IBAN_1], by 2024-11-23? And you'll ring [PHONE_1]?"))
    roleplay = make_roleplay(SCENARIO, persona=llm_persona())

    played = roleplay.reply(
        f"Calm down. Claim #88812345 (ref 1234-5678-90) was paid on 2024-11-23 with card {card}. "
        f"I'll send the rest to {iban} and call you on {phone}."
    )

    sent = json.dumps(stub.requests[-1].body)
    for value in (card, iban, phone, "4111.1111", "3704 0044"):
        assert value not in sent
    assert "[CARD_1]" in sent and "[IBAN_1]" in sent and "[PHONE_1]" in sent
    for fact in ("#88812345", "1234-5678-90", "2024-11-23"):
        assert fact in sent
    assert played.customer.text == f"To {iban}, by 2024-11-23? And you'll ring {phone}?"


def test_the_persona_keeps_to_openai_max_retries_and_max_output_tokens(stub, make_roleplay):
    settings = Settings(
        openai_api_key="test",
        openai_base_url=stub.base_url,
        openai_max_retries=0,
        openai_max_output_tokens=120,
        _env_file=None,
    )
    stub.enqueue(StubReply.error(500))

    persona = build_persona(settings)
    make_roleplay(SCENARIO, persona=persona).reply(VAGUE)

    assert len(stub.requests) == 1  # no retry
    assert persona.calls.max_retries == 0
    stub.enqueue(StubReply.text("Fine."))
    make_roleplay(SCENARIO, persona=persona).reply(VAGUE)
    assert stub.requests[-1].body["max_output_tokens"] == 120


def test_the_model_is_told_which_offers_were_made_and_what_is_missing(
    stub, llm_persona, make_roleplay
):
    stub.enqueue(StubReply.text("A handler, good. And when is someone coming to see the roof?"))
    stub.enqueue(StubReply.text("Approved? Before anyone has seen it?"))
    roleplay = make_roleplay(SCENARIO, persona=llm_persona())

    roleplay.reply("I'm sorry. I've assigned your claim to a named handler, Priya, today.")
    roleplay.reply("And I can tell you now the claim is approved in full.")

    first, second = (request.body["input"] for request in stub.requests)
    assert "offered you so far: a named handler." in first
    assert "assessor" not in first.split("offered you so far:")[1].split("\n")[0]
    assert "When is someone coming to look at the roof?" in first  # still missing
    assert "test them on it" not in first
    assert "test them on it" in second and "the claim is approved in full" in second


def test_before_any_offer_the_model_is_told_none_was_made(stub, llm_persona, make_roleplay):
    stub.enqueue(StubReply.text("Looking into it? That's what I was told fourteen days ago."))

    make_roleplay(SCENARIO, persona=llm_persona()).reply(VAGUE)

    assert "has not offered you anything concrete yet" in stub.requests[0].body["input"]


@pytest.mark.parametrize(
    "reply",
    [StubReply.hang(30), StubReply.text("Fine. Thursday, then.").dripping(0.05)],
    ids=["hanging", "slow-dripping"],
)
def test_the_customer_speaks_offline_within_the_persona_deadline(stub, make_roleplay, reply):
    settings = Settings(
        openai_api_key="test",
        openai_base_url=stub.base_url,
        persona_deadline_seconds=1.0,
        _env_file=None,
    )  # OPENAI_TIMEOUT_SECONDS stays 20 s a try: the deadline is what cuts it
    stub.default = reply
    persona = build_persona(settings)
    offline = make_roleplay(SCENARIO).reply(VAGUE)
    started = time.monotonic()

    played = make_roleplay(SCENARIO, persona=persona).reply(VAGUE)

    assert played.customer.text == offline.customer.text
    assert time.monotonic() - started < 1.75
