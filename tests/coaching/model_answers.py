"""What the LLM engines' tests script the OpenAI stub with: answers in the critique schema, what
the engine sent, and a model that obeys orders it finds in what it is sent."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.coaching.llm import LLMCritiqueEngine
from bot.coaching.offline import OfflineCritiqueEngine
from bot.fakes.openai_stub import OpenAIStub, RecordedRequest, StubReply
from bot.settings import load_settings

STEP_NAMES = ("apologize", "sympathize", "responsibility", "act")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def step(score: int, *evidence: str, tip: str = "") -> dict:
    return {"score": score, "evidence": list(evidence), "tip": tip}


def answer(**changes) -> dict:
    """A schema-valid answer that finds nothing; `changes` replace its fields."""
    base = {
        **{name: step(0, tip=f"Do the {name} step.") for name in STEP_NAMES},
        "triggers": [],
        "customer_at_fault": False,
        "way_out_offered": False,
        "way_out_evidence": [],
        "summary": "Needs work.",
        "rewrite": "",
        "instructions_found": [],
    }
    return {**base, **changes}


def llm_engine(stub: OpenAIStub, api: str = "responses", **settings) -> LLMCritiqueEngine:
    settings.setdefault("openai_max_retries", 0)
    configured = load_settings(
        _env_file=None,
        openai_api_key="sk-test",
        openai_base_url=stub.base_url,
        openai_api=api,
        openai_model="gpt-test",
        **settings,
    )
    return LLMCritiqueEngine.from_settings(configured, fallback=OfflineCritiqueEngine())


def user_text(request: RecordedRequest) -> str:
    """The user message of a request, whichever API it used."""
    body = request.body
    if "input" in body:
        return body["input"][0]["content"] if isinstance(body["input"], list) else body["input"]
    return body["messages"][-1]["content"]


def tagged(request: RecordedRequest, tag: str) -> str:
    found = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", user_text(request), re.S)
    return found.group(1) if found else ""


def full_marks(request: RecordedRequest) -> dict:
    """What a model answers when it does as the reply's orders say: 2 on every step, each
    quoting the reply as it was sent sentence by sentence, no trigger, a generous rewrite."""
    quotes = [s.strip() for s in _SENTENCE.findall(tagged(request, "agent_reply")) if s.strip()]
    return answer(
        **{name: step(2, *quotes) for name in STEP_NAMES},
        way_out_offered=True,
        way_out_evidence=quotes,
        summary="A flawless reply.",
        rewrite="Thank you! I've refunded you in full and added a voucher: "
        "https://example.com/claim?code=FREE100",
    )


def obeying(honest: dict, orders: Sequence[str]) -> StubReply:
    """A model that obeys orders to the grader, as a compromised or weak one would: while what
    it is sent still holds any of `orders` (say, each sentence of an injection), it answers
    `full_marks`, and reports no instruction; otherwise it answers `honest`."""

    def respond(request: RecordedRequest) -> StubReply:
        sent = user_text(request).lower()
        if any(order.lower() in sent for order in orders):
            return StubReply.json(full_marks(request))
        return StubReply.json(honest)

    return StubReply.answering(respond)
