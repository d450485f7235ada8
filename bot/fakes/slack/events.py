"""Events API events, shaped as Slack sends them for what happened in the workspace."""

from __future__ import annotations

import re
import uuid
from typing import Any

from bot.fakes.slack.records import Message
from bot.fakes.slack.state import Workspace

Event = dict[str, Any]


def message_posted(workspace: Workspace, message: Message) -> list[Event]:
    """The `message` event, plus `app_mention` when a person mentions the app."""
    body = {
        **workspace.message_json(message),
        "channel": message.channel,
        "channel_type": _channel_type(workspace, message.channel),
        "event_ts": message.ts,
    }
    if message.bot_id is None:
        body["client_msg_id"] = str(uuid.uuid4())
    # A reply to a ts that matches no message is stored by Slack but orphaned: no parent to name.
    parent = (
        workspace.find_message(message.channel, message.thread_ts) if message.is_reply else None
    )
    if parent is not None:
        body["parent_user_id"] = parent.user
    events = [body]
    if message.bot_id is None and mentions(message.text, workspace.bot_user.id):
        mention = {key: body[key] for key in ("user", "text", "ts", "channel", "event_ts")}
        if message.thread_ts:
            mention["thread_ts"] = message.thread_ts
        events.append({"type": "app_mention", **mention})
    return events


def message_changed(workspace: Workspace, previous: Message, current: Message) -> Event:
    return _hidden_message_event(
        workspace,
        current.channel,
        "message_changed",
        message=workspace.message_json(current),
        previous_message=workspace.message_json(previous),
    )


def message_deleted(workspace: Workspace, previous: Message) -> Event:
    return _hidden_message_event(
        workspace,
        previous.channel,
        "message_deleted",
        deleted_ts=previous.ts,
        previous_message=workspace.message_json(previous),
    )


def reaction(workspace: Workspace, message: Message, name: str, user: str, *, added: bool) -> Event:
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": name,
        "item_user": message.user,
        "item": {"type": "message", "channel": message.channel, "ts": message.ts},
        "event_ts": workspace.new_ts(),
    }


def app_home_opened(workspace: Workspace, user: str, channel: str) -> Event:
    event: Event = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": "home",
        "event_ts": workspace.new_ts(),
    }
    home = workspace.home(user)
    if home is not None:
        event["view"] = workspace.view_json(home)
    return event


def mentions(text: str, user_id: str) -> bool:
    """Whether `text` mentions the user the way Slack encodes it: <@U123> or <@U123|name>."""
    return re.search(rf"<@{re.escape(user_id)}(\|[^>]*)?>", text) is not None


def channel_of(event: Event) -> str | None:
    """The conversation an event happened in, for deciding whether the app may see it."""
    return event.get("channel") or event.get("item", {}).get("channel")


def _hidden_message_event(workspace: Workspace, channel: str, subtype: str, **fields: Any) -> Event:
    """Edits and deletions: `message` events of their own, stamped when they happened."""
    ts = workspace.new_ts()
    return {
        "type": "message",
        "subtype": subtype,
        "hidden": True,
        "channel": channel,
        "channel_type": _channel_type(workspace, channel),
        "ts": ts,
        "event_ts": ts,
        **fields,
    }


def _channel_type(workspace: Workspace, channel: str) -> str:
    return workspace.conversation(channel).type.value
