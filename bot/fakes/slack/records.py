"""The things a Slack workspace holds, as the fake stores them and hands them to tests.

Messages, ephemerals and views are immutable snapshots: a change (an edit, a reaction) stores a
new record, so a test can keep one and compare it with what came later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ConversationType(StrEnum):
    """Slack's `channel_type` values."""

    CHANNEL = "channel"  # public channel
    GROUP = "group"  # private channel
    IM = "im"  # direct message with the app
    MPIM = "mpim"  # group direct message


@dataclass(frozen=True)
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    is_admin: bool = False
    # Another organisation's, for a person in a Slack Connect channel; None: this workspace.
    team_id: str | None = None
    tz: str = "America/New_York"
    tz_offset: int = -18000


@dataclass
class Conversation:
    """A channel or DM; mutable, and only ever touched under the workspace's lock."""

    id: str
    type: ConversationType
    name: str | None  # None for DMs
    created: int
    creator: str
    members: set[str] = field(default_factory=set)
    is_archived: bool = False

    @property
    def is_direct(self) -> bool:
        return self.type in (ConversationType.IM, ConversationType.MPIM)


@dataclass(frozen=True)
class Reaction:
    name: str
    users: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None  # set on messages the app posted
    app_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    subtype: str | None = None
    edited_ts: str | None = None
    reactions: tuple[Reaction, ...] = ()

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def reaction(self, name: str) -> Reaction | None:
        return next((r for r in self.reactions if r.name == name), None)


@dataclass(frozen=True)
class Ephemeral:
    """A message only `user` sees; Slack never lists these in history."""

    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class View:
    """A modal or an App Home tab as the app last set it."""

    id: str
    user: str
    type: str  # "modal" or "home"
    definition: dict[str, Any]  # the view object the app sent
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    state_values: dict[str, Any] = field(default_factory=dict)

    @property
    def callback_id(self) -> str:
        return self.definition.get("callback_id", "")

    @property
    def external_id(self) -> str:
        return self.definition.get("external_id", "")

    @property
    def private_metadata(self) -> str:
        return self.definition.get("private_metadata", "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.definition.get("blocks", [])


@dataclass(frozen=True)
class Change:
    """What observers receive on every change to the workspace.

    kind                                        record
    message_posted, message_changed             the Message as it is now
    message_deleted                             the Message as it was
    ephemeral_posted, ephemeral_replaced        the new Ephemeral (the old one if deleted)
    view_opened, view_updated, home_published   the View
    views_closed                                the ids of the closed views
    user_added                                  the User
    conversation_created                        the Conversation
    member_joined                               (channel id, user id)
    conversation_archived                       the channel id
    """

    kind: str
    record: object
