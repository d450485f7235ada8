"""Message metadata of watched channels, from `message` events and from the backfill of a newly
watched channel. Only who posted where and when is kept: the text is never read further."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.reminders.record import author_kind, mark_deleted, posted_at_of, record_message
from bot.store.db import Database
from bot.store.models import Workspace
from bot.store.workspaces import is_watched, workspace_of

logger = logging.getLogger(__name__)

BACKFILL_DAYS = 7
PAGE_SIZE = 200
# Messages people (or integrations) wrote. Joins, topic changes and the like are not messages
# to or from a customer.
POSTED_SUBTYPES = {None, "thread_broadcast", "bot_message", "file_share", "me_message"}


@dataclass(frozen=True)
class Source:
    """Where messages come from, and which of them are the bot's own (never recorded)."""

    team_id: str
    channel_id: str
    bot_user_id: str | None
    bot_id: str | None

    def is_own(self, message: dict[str, Any]) -> bool:
        return (self.bot_id is not None and message.get("bot_id") == self.bot_id) or (
            self.bot_user_id is not None and message.get("user") == self.bot_user_id
        )


def record_event(db: Database, source: Source, event: dict[str, Any]) -> None:
    """A `message` event of a channel: recorded when the channel is watched."""
    with db.session() as session:
        if not is_watched(session, source.team_id, source.channel_id):
            return
        workspace = workspace_of(session, source.team_id)
        subtype = event.get("subtype")
        if subtype == "message_deleted":
            _record_deletion(session, workspace, source, event)
        elif subtype == "message_changed":
            _record(session, workspace, source, event["message"])
        else:
            _record(session, workspace, source, event)


def _record_deletion(
    session: Session, workspace: Workspace, source: Source, event: dict[str, Any]
) -> None:
    deleted_at = posted_at_of(event.get("event_ts") or event["ts"])
    previous = event.get("previous_message")
    if previous is None:
        mark_deleted(
            session,
            team_id=source.team_id,
            channel_id=source.channel_id,
            ts=event["deleted_ts"],
            deleted_at=deleted_at,
        )
    else:
        # Events can arrive out of order: a deletion overtaking its message still records it,
        # as deleted, from what Slack says the message was.
        _record(session, workspace, source, previous, deleted_at=deleted_at)


def backfill(db: Database, client: WebClient, source: Source, now: datetime) -> int:
    """Record the last BACKFILL_DAYS of the channel, threads included; returns how many
    messages were new. The client pages through the history and waits out Slack's 429s."""
    oldest = f"{(now - timedelta(days=BACKFILL_DAYS)).timestamp():.6f}"
    recorded = 0
    for page in client.conversations_history(
        channel=source.channel_id, oldest=oldest, limit=PAGE_SIZE
    ):
        messages = list(_with_replies(client, source.channel_id, page["messages"]))
        # One transaction per page keeps a long backfill from holding a transaction open.
        with db.session() as session:
            workspace = workspace_of(session, source.team_id)
            recorded += sum(_record(session, workspace, source, m) for m in messages)
    logger.info("backfilled %d messages of %s/%s", recorded, source.team_id, source.channel_id)
    return recorded


def _with_replies(
    client: WebClient, channel_id: str, roots: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    for root in roots:
        yield root
        if not root.get("reply_count"):
            continue
        for page in client.conversations_replies(
            channel=channel_id, ts=root["ts"], limit=PAGE_SIZE
        ):
            # Every page of replies starts with the thread's root again.
            yield from (reply for reply in page["messages"] if reply["ts"] != root["ts"])


def _record(
    session: Session,
    workspace: Workspace,
    source: Source,
    message: dict[str, Any],
    *,
    deleted_at: datetime | None = None,
) -> bool:
    if message.get("subtype") not in POSTED_SUBTYPES or source.is_own(message):
        return False
    is_bot = "bot_id" in message or message.get("subtype") == "bot_message"
    user_id = message.get("user") or message.get("bot_id")
    edited = message.get("edited")
    return record_message(
        session,
        team_id=source.team_id,
        channel_id=source.channel_id,
        ts=message["ts"],
        thread_ts=message.get("thread_ts"),
        user_id=user_id,
        author_kind=author_kind(workspace, user_id, is_bot=is_bot),
        edited_at=posted_at_of(edited["ts"]) if edited else None,
        deleted_at=deleted_at,
    )
