"""Use case: critique a draft reply before it is sent (`/practice check <draft>`), answered only
to its writer through the command's response URL. Nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.blocks.critique import draft_check_message, texts
from bot.coaching.reviews import check_draft
from bot.jobs.job import Job, Queue
from bot.services import Services
from bot.slack.notices import respond


@dataclass(frozen=True, kw_only=True)
class DraftCheckAsked(Job):
    task: ClassVar[str] = "check_draft"
    queue: ClassVar[Queue] = Queue.coaching

    team_id: str
    user_id: str
    draft: str
    response_url: str
    asked_at: float  # epoch seconds: a check waiting too long for the LLM is answered offline


def answer_draft_check(services: Services, asked: DraftCheckAsked) -> None:
    engine = services.critique_engine_for(asked.team_id, asked.user_id, asked_at=asked.asked_at)
    checked = check_draft(engine, asked.draft)
    respond(asked.response_url, draft_check_message(checked))


def tell_check_failed(services: Services, asked: DraftCheckAsked, error: Exception) -> None:
    respond(asked.response_url, {"text": texts()["notes"]["failed"]})
