"""Fixtures for the critique engine's tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.coaching.critique import Critique, CritiqueRequest
from bot.coaching.offline import OfflineCritiqueEngine
from bot.fakes.openai_stub import OpenAIStub

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_eval_dir() -> Path:
    """The labelled eval data: $ASAP_SHARED_DIR/eval, else ../shared/eval beside the repo."""
    shared = os.environ.get("ASAP_SHARED_DIR")
    return (Path(shared) if shared else REPO_ROOT.parent / "shared") / "eval"


@pytest.fixture
def eval_file() -> Callable[[str], Path]:
    def find(name: str) -> Path:
        path = shared_eval_dir() / name
        if not path.is_file():
            pytest.skip(f"eval data {path} is absent (set ASAP_SHARED_DIR to the shared folder)")
        return path

    return find


@pytest.fixture(scope="session")
def offline_engine() -> OfflineCritiqueEngine:
    return OfflineCritiqueEngine()


@pytest.fixture
def critique(offline_engine: OfflineCritiqueEngine) -> Callable[..., Critique]:
    """Critique a reply with the offline engine."""

    def run(reply: str, customer: str | None = None, facts: str | None = None) -> Critique:
        request = CritiqueRequest(
            agent_reply=reply, customer_message=customer, scenario_facts=facts
        )
        return offline_engine.critique(request)

    return run


@pytest.fixture(scope="session")
def running_stub() -> Iterator[OpenAIStub]:
    """The OpenAI-compatible stub on loopback, for the LLM engines' tests."""
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def stub(running_stub: OpenAIStub) -> OpenAIStub:
    """The stub with no script, no recorded requests and no default answer."""
    running_stub.reset()
    return running_stub
