"""Use case: play the agent's reply in a practice thread: a typing cue at once, then the
customer's answer in its place (and the scorecard when that answer ended the session).

Replies to one session run one at a time, in the order they came (the job's lock), whichever
web replica received them. A retried job plays nothing twice: a reply already played is only
shown again, in the message stored with it (updating a message twice changes nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk import WebClient

from bot.blocks.practice import customer_message, texts, typing_message
from bot.coaching.critique import MAX_REPLY_CHARS
from bot.coaching.practice.service import Finished, Replied
from bot.jobs.job import Job, Queue
from bot.metrics import PRACTICE_TURNS
from bot.services import Services
from bot.slack.notices import tell
from bot.slack.practice_end import ScorecardDue

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PracticeTurnAsked(Job):
    task: ClassVar[str] = "play_practice_turn"
    queue: ClassVar[Queue] = Queue.coaching

    team_id: str
    user_id: str
    channel_id: str
    thread_ts: str
    message_ts: str
    text: str
    asked_at: float  # epoch seconds: a turn waiting too long for the LLM is played offline

    def lock(self) -> str:
        return f"practice:{self.team_id}:{self.channel_id}:{self.thread_ts}"


def play_practice_turn(services: Services, turn: PracticeTurnAsked) -> None:
    client = services.slack(turn.team_id)
    practice = services.practice
    earlier = practice.replayed(turn.team_id, turn.channel_id, turn.message_ts)
    if earlier is not None:
        _show_answer(services, client, turn, earlier, in_place_of=earlier.posted_ts)
        return
    cue = client.chat_postMessage(
        channel=turn.channel_id, thread_ts=turn.thread_ts, **typing_message()
    )
    try:
        result = practice.reply(
            turn.team_id,
            turn.user_id,
            turn.text,
            message_ts=turn.message_ts,
            answer_ts=cue["ts"],
            offline=services.llm_busy(turn.asked_at),
        )
    except Exception:
        # Nothing was saved: take the cue away; the job is retried or the agent told.
        client.chat_delete(channel=turn.channel_id, ts=cue["ts"])
        raise
    if isinstance(result, Replied):
        PRACTICE_TURNS.inc()
        _show_answer(services, client, turn, result, in_place_of=cue["ts"])
        return
    client.chat_delete(channel=turn.channel_id, ts=cue["ts"])
    if isinstance(result, Finished):  # it timed out just before this reply
        services.enqueue(ScorecardDue.of(result.session))
    else:
        tell(client, turn.channel_id, turn.user_id, result.message, thread_ts=turn.thread_ts)


def tell_turn_failed(services: Services, turn: PracticeTurnAsked, error: Exception) -> None:
    """The agent can post the reply again: nothing of it was kept."""
    client = services.slack(turn.team_id)
    tell(client, turn.channel_id, turn.user_id, texts()["reply_failed"], thread_ts=turn.thread_ts)


def _show_answer(
    services: Services,
    client: WebClient,
    turn: PracticeTurnAsked,
    result: Replied,
    *,
    in_place_of: str | None,
) -> None:
    answer = customer_message(
        result.customer,
        result.mood,
        result.mood_change,
        session_id=result.session.id,
        active=result.scorecard is None,
    )
    if in_place_of is None:  # played before answers were stored with their message
        posted = client.chat_postMessage(
            channel=turn.channel_id, thread_ts=turn.thread_ts, **answer
        )
        services.practice.record_message_ts(
            turn.team_id, result.session.id, result.customer_position, posted["ts"]
        )
    else:
        client.chat_update(channel=turn.channel_id, ts=in_place_of, **answer)
    if result.truncated:
        note = texts()["reply_truncated"].format(limit=f"{MAX_REPLY_CHARS:,}")
        tell(client, turn.channel_id, turn.user_id, note, thread_ts=turn.thread_ts)
    if result.scorecard is not None:
        services.enqueue(ScorecardDue.of(result.session))
