"""Use case: start a practice session (`/practice <scenario>`, the picker, Try again): post the
scenario card in the user's DM or a channel, the customer's opening in its thread, and tell the
user where it is."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.practice import customer_message, scenario_card, texts
from bot.blocks.text import escape
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import Family
from bot.coaching.practice.service import AlreadyActive, Started
from bot.jobs.job import Job, Queue
from bot.metrics import PRACTICE_SESSIONS
from bot.services import Services
from bot.slack.errors import is_transient, slack_reason
from bot.slack.notices import respond, tell
from bot.slack.practice_end import ScorecardDue
from bot.slack.practice_threads import bot_is_member, dm_channel, session_link, thread_link

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PracticeStartAsked(Job):
    """A named scenario, or any scenario of a `family` (the picker: each practice meets new
    facts). `in_channel`: a thread in `channel_id` rather than the DM. The answer goes to the
    `response_url` when there is one, else as an ephemeral where `/practice` was typed."""

    task: ClassVar[str] = "start_practice"
    # The LLM persona writes the opening.
    queue: ClassVar[Queue] = Queue.coaching

    team_id: str
    user_id: str
    difficulty: str
    channel_id: str
    in_channel: bool
    scenario_id: str | None = None
    family: str | None = None
    response_url: str | None = None

    def lock(self) -> str:
        # Two quick starts by one person: the second sees the first's session.
        return f"practice-start:{self.team_id}:{self.user_id}"


def start_practice(services: Services, asked: PracticeStartAsked) -> None:
    client = services.slack(asked.team_id)
    if asked.in_channel and not bot_is_member(client, asked.channel_id):
        _answer(client, asked, texts()["cannot_post_here"])
        return
    place = asked.channel_id if asked.in_channel else dm_channel(client, asked.user_id)
    _answer(client, asked, _start(services, client, asked, place))


def tell_start_failed(services: Services, asked: PracticeStartAsked, error: Exception) -> None:
    _answer(services.slack(asked.team_id), asked, texts()["reply_failed"])


def _start(services: Services, client: WebClient, asked: PracticeStartAsked, place: str) -> str:
    practice = services.practice
    # Any of the family's variants: each practice meets a new industry and new facts.
    scenario_id = asked.scenario_id or random.choice(
        practice.scenarios.of_family(Family(asked.family))
    )
    difficulty = Difficulty(asked.difficulty)
    result = practice.start(asked.team_id, asked.user_id, scenario_id, difficulty, place)
    if isinstance(result, AlreadyActive):
        session = result.session
        if session.thread_ts is None:
            return result.message
        link = texts()["thread_link"].format(link=session_link(session))
        return f"{result.message} {link}"
    if not isinstance(result, Started):  # an unknown scenario: it quotes what was typed
        return escape(result.message)
    if result.closed_idle is not None:
        services.enqueue(ScorecardDue.of(result.closed_idle.session))
    session = result.session
    scenario = practice.scenarios.scenarios[session.scenario_id]
    try:
        card = client.chat_postMessage(channel=place, **scenario_card(scenario, difficulty))
        practice.attach_thread(asked.team_id, session.id, card["ts"])
        opening = client.chat_postMessage(
            channel=place,
            thread_ts=card["ts"],
            **customer_message(
                result.opening, session.start_mood, 0, session_id=session.id, active=True
            ),
        )
    except SlackApiError as error:
        # Nowhere to play it (e.g. Try again in a channel the bot has left): end the session so
        # it does not block the next one; a passing trouble is retried with a new session.
        practice.end(asked.team_id, asked.user_id)
        if is_transient(error):
            raise
        reason = slack_reason(error)
        logger.warning("could not post practice session %s (%s)", session.id, reason)
        return texts()["could_not_start"].format(reason=reason)
    practice.record_message_ts(asked.team_id, session.id, 0, opening["ts"])
    PRACTICE_SESSIONS.labels(outcome="started").inc()
    return texts()["started_elsewhere"].format(link=thread_link(place, card["ts"]))


def _answer(client: WebClient, asked: PracticeStartAsked, text: str) -> None:
    """Through the response URL; from the picker (which has none), where `/practice` was typed,
    or in the DM when the bot cannot post there."""
    if asked.response_url is not None:
        respond(asked.response_url, {"text": text})
    elif not tell(client, asked.channel_id, asked.user_id, text):
        client.chat_postMessage(channel=dm_channel(client, asked.user_id), text=text)
