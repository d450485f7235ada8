"""Where a practice session lives in Slack: the DM or channel thread, links to it, and posting
into it. Shared by the practice use cases."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.text import message_link
from bot.coaching.practice.service import SessionView
from bot.slack.errors import is_transient


def thread_link(channel_id: str, thread_ts: str) -> str:
    return message_link(channel_id, thread_ts)


def session_link(session: SessionView) -> str:
    return thread_link(session.channel_id, session.thread_ts or "")


def dm_channel(client: WebClient, user_id: str) -> str:
    """The id of the bot's DM with the user, where `message.im` events come from."""
    return client.conversations_open(users=user_id)["channel"]["id"]


def bot_is_member(client: WebClient, channel_id: str) -> bool:
    """Whether the bot may post in the (public) channel: it does not join by itself."""
    if not channel_id.startswith("C"):
        return False
    try:
        return bool(client.conversations_info(channel=channel_id)["channel"].get("is_member"))
    except SlackApiError as error:
        if is_transient(error):
            raise
        return False


def post_in_thread(client: WebClient, session: SessionView, message: dict[str, Any]) -> str:
    """Post in the session's thread; the message's ts."""
    answer = client.chat_postMessage(
        channel=session.channel_id, thread_ts=session.thread_ts, **message
    )
    return answer["ts"]
