"""The Slack side of a practice session: the card and the opening, each reply behind a typing
cue, and the scorecard. Used by the listeners and by the inactivity tick; the session itself is
`bot.coaching.practice`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.practice import (
    customer_message,
    scenario_card,
    scorecard_message,
    texts,
    typing_message,
)
from bot.blocks.text import escape
from bot.coaching.critique import MAX_REPLY_CHARS
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.service import (
    AlreadyActive,
    Finished,
    PracticeSessions,
    Replied,
    SessionView,
    Started,
)
from bot.slack.clients import ClientForTeam

logger = logging.getLogger(__name__)

# Slack accepts a web link to a message in any workspace the reader is in.
MESSAGE_LINK = "https://slack.com/archives/{channel}/p{ts}"


@dataclass(frozen=True)
class StartAnswer:
    """What to tell the person who asked for a session, and whether it started."""

    started: bool
    text: str


def thread_link(channel_id: str, thread_ts: str) -> str:
    return MESSAGE_LINK.format(channel=channel_id, ts=thread_ts.replace(".", ""))


def dm_channel(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with the user, where `message.im` events come from."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def start_session(
    practice: PracticeSessions,
    client: WebClient,
    team_id: str,
    user_id: str,
    scenario_id: str,
    difficulty: Difficulty,
    channel_id: str,
) -> StartAnswer:
    """Start a session in `channel_id` and post its card and opening."""
    result = practice.start(team_id, user_id, scenario_id, difficulty, channel_id)
    if isinstance(result, AlreadyActive):
        return StartAnswer(False, _with_link(result.message, result.session))
    if not isinstance(result, Started):  # an unknown scenario: it quotes what was typed
        return StartAnswer(False, escape(result.message))
    if result.closed_idle is not None:
        try:
            post_finished(client, result.closed_idle)
        except SlackApiError as error:  # the old thread's channel may be gone: start anyway
            logger.warning(
                "could not post the scorecard of timed-out practice session %s (%s)",
                result.closed_idle.session.id,
                _slack_reason(error),
            )
    session = result.session
    scenario = practice.scenarios.scenarios[session.scenario_id]
    try:
        card = client.chat_postMessage(channel=channel_id, **scenario_card(scenario, difficulty))
        practice.attach_thread(team_id, session.id, card["ts"])
        opening = client.chat_postMessage(
            channel=channel_id,
            thread_ts=card["ts"],
            **customer_message(
                result.opening, session.start_mood, 0, session_id=session.id, active=True
            ),
        )
    except SlackApiError as error:
        # Nowhere to play it (e.g. Try again in a channel the bot has left): end the session so
        # it does not block the next one, and say why.
        practice.end(team_id, user_id)
        reason = _slack_reason(error)
        logger.warning("could not post practice session %s (%s)", session.id, reason)
        return StartAnswer(False, texts()["could_not_start"].format(reason=reason))
    practice.record_message_ts(team_id, session.id, 0, opening["ts"])
    link = thread_link(channel_id, card["ts"])
    return StartAnswer(True, texts()["started_elsewhere"].format(link=link))


def play_reply(practice: PracticeSessions, client: WebClient, team_id: str, event: dict) -> None:
    """The agent replied in the session's thread: show the typing cue, then the customer's
    answer in its place (and the scorecard when that answer ended the session)."""
    channel, thread_ts, user = event["channel"], event["thread_ts"], event["user"]
    cue = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **typing_message())
    try:
        result = practice.reply(team_id, user, event.get("text") or "", message_ts=event["ts"])
    except Exception as error:  # nothing was saved: the agent can post the reply again
        logger.warning("practice reply failed (%s)", type(error).__name__)
        client.chat_delete(channel=channel, ts=cue["ts"])
        client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, text=texts()["reply_failed"]
        )
        return
    if isinstance(result, Replied):
        answer = customer_message(
            result.customer,
            result.mood,
            result.mood_change,
            session_id=result.session.id,
            active=result.scorecard is None,
        )
        client.chat_update(channel=channel, ts=cue["ts"], **answer)
        if result.truncated:
            note = texts()["reply_truncated"].format(limit=f"{MAX_REPLY_CHARS:,}")
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=note)
        practice.record_message_ts(team_id, result.session.id, result.customer_position, cue["ts"])
        if result.scorecard is not None:
            _post_in_thread(client, result.session, scorecard_message(result.scorecard))
        return
    client.chat_delete(channel=channel, ts=cue["ts"])
    if isinstance(result, Finished):  # it timed out just before this reply
        post_finished(client, result)
    else:
        client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, text=result.message
        )


def post_finished(client: WebClient, finished: Finished) -> None:
    """The scorecard of a session that ended without a customer message, in its thread."""
    if finished.scorecard is not None and finished.session.thread_ts is not None:
        _post_in_thread(client, finished.session, scorecard_message(finished.scorecard))


def end_session(practice: PracticeSessions, client: WebClient, team_id: str, user_id: str) -> str:
    """End the user's session (scorecard in its thread); what to tell the user."""
    result = practice.end(team_id, user_id)
    if not isinstance(result, Finished):
        return result.message
    post_finished(client, result)
    session = result.session
    return texts()["ended"].format(link=thread_link(session.channel_id, session.thread_ts or ""))


def time_out_idle_sessions(practice: PracticeSessions, client_for_team: ClientForTeam) -> int:
    """End the sessions idle past the inactivity timeout and post their scorecards. A session
    stays closed when its scorecard cannot be posted: the failure is logged."""
    finished = practice.time_out_idle()
    for session in finished:
        try:
            post_finished(client_for_team(session.session.team_id), session)
        except Exception as error:  # one workspace's failure must not keep the others' scorecards
            logger.warning(
                "could not post the scorecard of timed-out practice session %s (%s)",
                session.session.id,
                _slack_reason(error),
            )
    return len(finished)


def _post_in_thread(client: WebClient, session: SessionView, message: dict[str, Any]) -> None:
    client.chat_postMessage(channel=session.channel_id, thread_ts=session.thread_ts, **message)


def _slack_reason(error: Exception) -> str:
    """Slack's error code, or the exception's type: never a message's text."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


def _with_link(message: str, session: SessionView) -> str:
    if session.thread_ts is None:
        return message
    link = thread_link(session.channel_id, session.thread_ts)
    return f"{message} {texts()['thread_link'].format(link=link)}"
