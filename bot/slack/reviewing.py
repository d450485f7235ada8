"""Critiquing a Slack message: read it and the customer message it answers, get its review from
`bot.coaching.reviews`, and deliver it (a DM to the author, a thread reply, or a modal).

The reaction listener (events) and the message shortcut (shortcuts) call in here once they have
acked, so the Slack calls and the engine may take their time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.critique import critique_message, critique_modal, notice_modal, texts
from bot.coaching.reviews import (
    Review,
    ReviewedMessage,
    channel_policy,
    has_requested,
    mark_delivered,
    release_request,
    request_critique,
    workspace_policy,
)
from bot.services import Services
from bot.store.models import CritiqueDelivery

logger = logging.getLogger(__name__)

HOURGLASS = "hourglass_flowing_sand"
CONTEXT_LIMIT = 4000  # characters of each customer message given to the engine
HISTORY_LOOKBACK = 20  # channel messages searched for the one a top-level message answers
THREAD_PAGE = 1000
# Slack errors meaning the message is gone, or that the bot may not read where it was.
GONE_ERRORS = {"thread_not_found", "message_not_found"}
UNREADABLE_ERRORS = {"not_in_channel", "channel_not_found", "missing_scope", "access_denied"}


class Unreviewable(Exception):
    """Why a message cannot be critiqued: the key of its explanation in [notes]."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def explanation(self) -> str:
        return texts()["notes"][self.reason]


def critique_reaction(
    services: Services, client: WebClient, context: BoltContext, event: dict
) -> None:
    """Someone added a reaction: if it is the workspace's coaching emoji, critique the message."""
    item = event.get("item", {})
    emoji = event.get("reaction", "").split("::")[0]  # "teacher::skin-tone-2" is still teacher
    coaching_emoji = workspace_policy(services.db, context.team_id).coaching_emoji
    if item.get("type") != "message" or emoji != coaching_emoji:
        return
    channel, ts, requester = item["channel"], item["ts"], event["user"]
    policy = channel_policy(services.db, context.team_id, channel)
    try:
        if not policy.watched:
            raise Unreviewable("unwatched")
        message = read_message(client, context, channel, ts)
    except Unreviewable as problem:
        tell(client, channel, requester, problem.explanation)
        return
    except SlackApiError:
        _tell_failed(client, channel, requester)
        return
    if has_requested(services.db, message, requester):
        return  # a reaction removed and added again, or a retried event
    with _hourglass(client, channel, ts):
        try:
            review = request_critique(
                services.db, services.critique_engine, message, requester, "reaction"
            )
        except Exception:
            _tell_failed(client, channel, requester)
            return
        if review.first_for_requester:
            _deliver(services, client, message, requester, policy.delivery, review)


def critique_in_modal(
    services: Services, client: WebClient, context: BoltContext, shortcut: dict, view_id: str
) -> None:
    """The message shortcut: show the critique to the requester in the open modal."""
    requester = shortcut["user"]["id"]
    try:
        message = read_message(client, context, shortcut["channel"]["id"], shortcut["message_ts"])
        review = request_critique(
            services.db, services.critique_engine, message, requester, "shortcut"
        )
    except Unreviewable as problem:
        client.views_update(view_id=view_id, view=notice_modal(problem.explanation))
        return
    except Exception:
        # Slack or the engine failed: say so rather than leave the modal "Working on it…".
        logger.exception("critique for the message shortcut failed")
        client.views_update(view_id=view_id, view=notice_modal(texts()["notes"]["failed"]))
        return
    modal = critique_modal(review.critique, review.critique_id, review.truncated)
    client.views_update(view_id=view_id, view=modal)
    mark_delivered(services.db, message.team_id, review.request_id)


def read_message(client: WebClient, context: BoltContext, channel: str, ts: str) -> ReviewedMessage:
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
    skipped = {author, context.bot_user_id}
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
        team_id=context.team_id,
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
        raise


def _deliver(
    services: Services,
    client: WebClient,
    message: ReviewedMessage,
    requester: str,
    delivery: CritiqueDelivery,
    review: Review,
) -> None:
    """DM the author (and tell someone else who asked), or reply in the thread."""
    author = message.author_user_id
    content = critique_message(
        review.critique,
        review.critique_id,
        author=author,
        requester=requester,
        truncated=review.truncated,
    )
    try:
        if delivery is CritiqueDelivery.thread_reply:
            client.chat_postMessage(
                channel=message.channel_id, thread_ts=message.thread_ts, **content
            )
        else:
            client.chat_postMessage(channel=author, **content)
    except SlackApiError as error:
        logger.warning("could not deliver critique %s: %s", review.critique_id, error)
        release_request(services.db, message.team_id, review.request_id)
        tell(client, message.channel_id, requester, texts()["notes"]["delivery_failed"])
        return
    mark_delivered(services.db, message.team_id, review.request_id)
    if delivery is CritiqueDelivery.direct_message and requester != author:
        note = texts()["notes"]["sent_to_author"].format(author=author)
        tell(client, message.channel_id, requester, note)


def _tell_failed(client: WebClient, channel: str, requester: str) -> None:
    """Slack or the engine failed: the requester hears so rather than nothing."""
    logger.exception("critique for a reaction failed")
    tell(client, channel, requester, texts()["notes"]["failed"])


def tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A short ephemeral note, where possible: the bot may not be able to post there."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        logger.info("could not tell %s in %s: %s", user, channel, error.response.get("error"))


@contextmanager
def _hourglass(client: WebClient, channel: str, ts: str) -> Iterator[None]:
    """Show at once that the critique is on its way, and take the sign away when done."""
    _ignoring_reaction_errors(
        lambda: client.reactions_add(channel=channel, timestamp=ts, name=HOURGLASS)
    )
    try:
        yield
    finally:
        _ignoring_reaction_errors(
            lambda: client.reactions_remove(channel=channel, timestamp=ts, name=HOURGLASS)
        )


def _ignoring_reaction_errors(react: Callable[[], object]) -> None:
    try:
        react()
    except SlackApiError as error:
        # Already there (a second requester at the same time) or already gone: both fine.
        logger.info("hourglass: %s", error.response.get("error"))
