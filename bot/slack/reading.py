"""Reading a Slack message to critique, with the customer message(s) it answers."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.coaching.reviews import ReviewedMessage
from bot.slack.errors import is_transient

CONTEXT_LIMIT = 4000  # characters of each customer message given to the engine
HISTORY_LOOKBACK = 20  # channel messages searched for the one a top-level message answers
THREAD_PAGE = 1000
# Slack errors meaning the message is gone, or that the bot may not read where it was.
GONE_ERRORS = {"thread_not_found", "message_not_found"}
UNREADABLE_ERRORS = {"not_in_channel", "channel_not_found", "missing_scope", "access_denied"}


class Unreviewable(Exception):
    """Why a message cannot be critiqued: the key of its explanation in critique.toml [notes]."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_message(
    client: WebClient, team_id: str, channel: str, ts: str, bot_user_id: str | None
) -> ReviewedMessage:
    """The message at `ts` and the customer message(s) it answers, or Unreviewable."""
    thread = _replies(client, channel, ts)
    message = next((m for m in thread if m.get("ts") == ts), None)
    if message is None or message.get("subtype") == "tombstone":
        raise Unreviewable("deleted")
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        raise Unreviewable("bot_message")
    text = message.get("text", "").strip()
    if not text:
        raise Unreviewable("no_text")
    author = message.get("user")
    # The bot's own messages (critiques posted in a thread) are never what a reply answers.
    skipped = {author, bot_user_id}
    thread_ts = message.get("thread_ts")
    if thread_ts and thread_ts != ts:
        # A reply: the thread holds what it answers. Slack may return only the reply itself.
        if not any(m.get("ts") == thread_ts for m in thread):
            thread = _replies(client, channel, thread_ts)
        earlier = [m for m in thread if float(m["ts"]) < float(ts)]
        answered = _answered(earlier, skipped, in_thread=True)
    else:
        history = client.conversations_history(channel=channel, latest=ts, limit=HISTORY_LOOKBACK)
        answered = _answered(list(reversed(history["messages"])), skipped, in_thread=False)
    return ReviewedMessage(
        team_id=team_id,
        channel_id=channel,
        message_ts=ts,
        author_user_id=author,
        text=text,
        customer_messages=answered,
        thread_ts=thread_ts or ts,
    )


def _answered(
    earlier: list[dict[str, Any]], skipped: set[str | None], *, in_thread: bool
) -> tuple[str, ...]:
    """What a message answers, from the messages before it (oldest first): the latest one by
    someone else, and in a thread also the root that opened it."""
    others = [m for m in earlier if m.get("user") not in skipped and m.get("text", "").strip()]
    if not others:
        return ()
    picked = [others[0]] if in_thread and others[0] is earlier[0] else []
    if others[-1] is not others[0] or not picked:
        picked.append(others[-1])
    return tuple(m["text"][:CONTEXT_LIMIT] for m in picked)


def _replies(client: WebClient, channel: str, ts: str) -> list[dict[str, Any]]:
    try:
        return client.conversations_replies(channel=channel, ts=ts, limit=THREAD_PAGE)["messages"]
    except SlackApiError as error:
        code = error.response.get("error")
        if code in GONE_ERRORS:
            raise Unreviewable("deleted") from error
        if code in UNREADABLE_ERRORS:
            raise Unreviewable("unreadable") from error
        if not is_transient(error):
            raise Unreviewable("unreadable") from error
        raise
