"""Use case: critique a draft reply before it is sent (`/practice check <draft>`), answered only
to its writer through the command's response URL (or, once Slack no longer takes that, as an
ephemeral where the command was typed, else a DM). Nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.blocks.critique import draft_check_message, texts
from bot.coaching.reviews import check_draft
from bot.jobs.job import Job, Queue
from bot.services import Services
from bot.slack.errors import ResponseUrlExpired
from bot.slack.notices import respond, tell


@dataclass(frozen=True, kw_only=True)
class DraftCheckAsked(Job):
    task: ClassVar[str] = "check_draft"
    queue: ClassVar[Queue] = Queue.coaching

    team_id: str
    user_id: str
    draft: str
    response_url: str
    asked_at: float  # epoch seconds: a check waiting too long for the LLM is answered offline
    channel_id: str | None = None  # where the command was typed


def answer_draft_check(services: Services, asked: DraftCheckAsked) -> None:
    engine = services.critique_engine_for(asked.team_id, asked.user_id, asked_at=asked.asked_at)
    checked = check_draft(engine, asked.draft)
    _answer(services, asked, draft_check_message(checked))


def tell_check_failed(services: Services, asked: DraftCheckAsked, error: Exception) -> None:
    _answer(services, asked, {"text": texts()["notes"]["failed"]})


def _answer(services: Services, asked: DraftCheckAsked, message: dict[str, Any]) -> None:
    try:
        respond(asked.response_url, message)
    except ResponseUrlExpired:
        # The check outlived its response URL (a long wait in the queue, retries): the writer
        # still gets it, only to them.
        client = services.slack(asked.team_id)
        channel = asked.channel_id
        if channel is None or not tell(client, channel, asked.user_id, message):
            client.chat_postMessage(channel=asked.user_id, **message)
