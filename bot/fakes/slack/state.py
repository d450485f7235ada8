"""The workspace the fake Slack serves: people, conversations, messages, views.

Every read and write holds one lock, so the Web API (served on many threads), the driver and the
tests see a consistent workspace. Every write tells the observers (`subscribe`) what changed while
still holding that lock, so they see changes in the order they happened and may read the workspace
back; an observer must therefore be quick (hand the change to a queue) and must not wait on other
threads that use the fake.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from bot.fakes.slack.errors import SlackError
from bot.fakes.slack.records import (
    Change,
    Conversation,
    ConversationType,
    Ephemeral,
    Message,
    Reaction,
    User,
    View,
)

Observer = Callable[[Change], None]
TOMBSTONE_TEXT = "This message was deleted."
_POLL_INTERVAL = 0.01  # seconds


@dataclass
class _Trigger:
    user: str
    issued_at: float  # time.monotonic()
    exchanged: bool = False


class Workspace:
    def __init__(
        self,
        *,
        team_id: str,
        team_name: str,
        team_domain: str,
        bot_user: User,
        bot_id: str,
        app_id: str,
        clock: Callable[[], float] = time.time,
        trigger_ttl: float = 3.0,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user = bot_user
        self.bot_id = bot_id
        self.app_id = app_id
        self._clock = clock
        self._trigger_ttl = trigger_ttl
        self._lock = threading.RLock()
        self._changed_condition = threading.Condition(self._lock)
        self._observers: list[Observer] = []
        self._ids = itertools.count(1)
        self._last_ts = 0  # microseconds since the epoch
        self._users: dict[str, User] = {bot_user.id: bot_user}
        self._conversations: dict[str, Conversation] = {}
        self._messages: dict[str, dict[str, Message]] = {}  # channel -> ts -> message
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, View] = {}
        self._modal_stacks: dict[str, list[str]] = {}  # user -> view ids, root first
        self._homes: dict[str, str] = {}  # user -> view id
        self._usergroups: dict[str, tuple[str, ...]] = {}
        self._triggers: dict[str, _Trigger] = {}

    # ---------------------------------------------------------------- observing

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` on every change; returns the function that unsubscribes it."""
        with self._lock:
            self._observers.append(observer)
        return lambda: self._unsubscribe(observer)

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Block until `condition()` holds or `timeout` passes.

        It is re-checked after every change, and every few milliseconds as well, for conditions
        on things outside the workspace (what the app under test recorded, say).
        """
        deadline = time.monotonic() + timeout
        with self._changed_condition:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed_condition.wait(min(remaining, _POLL_INTERVAL))
            return True

    def _unsubscribe(self, observer: Observer) -> None:
        with self._lock:
            self._observers.remove(observer)

    def _changed(self, kind: str, record: object) -> None:
        """Tell waiters and observers; callers hold the lock."""
        self._changed_condition.notify_all()
        change = Change(kind, record)
        for observer in list(self._observers):
            observer(change)

    # ---------------------------------------------------------------- ids and time

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def new_ts(self) -> str:
        """A message timestamp like Slack's "1700000000.000100": unique and always increasing."""
        with self._lock:
            now = int(self._clock() * 1_000_000)
            # Slack's timestamps are unique per channel; 100µs steps keep them readable.
            self._last_ts = max(now, self._last_ts + 100)
            seconds, micros = divmod(self._last_ts, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def now(self) -> int:
        return int(self._clock())

    # ---------------------------------------------------------------- people

    def add_user(self, user: User) -> None:
        with self._lock:
            self._users[user.id] = user
            self._changed("user_added", user)

    def user(self, user_id: str) -> User:
        with self._lock:
            if user_id not in self._users:
                raise SlackError("user_not_found")
            return self._users[user_id]

    def add_usergroup(self, group_id: str, members: Iterable[str]) -> None:
        with self._lock:
            self._usergroups[group_id] = tuple(members)

    def usergroup_members(self, group_id: str) -> tuple[str, ...]:
        with self._lock:
            if group_id not in self._usergroups:
                raise SlackError("no_such_subteam")
            return self._usergroups[group_id]

    # ---------------------------------------------------------------- conversations

    def add_conversation(self, conversation: Conversation) -> None:
        with self._lock:
            self._conversations[conversation.id] = conversation
            self._messages[conversation.id] = {}
            self._changed("conversation_created", conversation)

    def conversation(self, channel_id: str, *, as_member: str | None = None) -> Conversation:
        """The conversation, as `as_member` may see it: private ones are invisible to outsiders."""
        with self._lock:
            conversation = self._conversations.get(channel_id)
            hidden = (
                conversation is not None
                and as_member is not None
                and conversation.type is not ConversationType.CHANNEL
                and as_member not in conversation.members
            )
            if conversation is None or hidden:
                raise SlackError("channel_not_found")
            return conversation

    def join(self, channel_id: str, user: str) -> bool:
        """Add `user`; False when they already were a member."""
        with self._lock:
            conversation = self.conversation(channel_id)
            if conversation.is_archived:
                raise SlackError("is_archived")
            if user in conversation.members:
                return False
            conversation.members.add(user)
            self._changed("member_joined", (channel_id, user))
        return True

    def archive(self, channel_id: str) -> None:
        with self._lock:
            self.conversation(channel_id).is_archived = True
            self._changed("conversation_archived", channel_id)

    def direct_conversation(self, users: Iterable[str]) -> Conversation:
        """The app's DM with one user, or its group DM with several; opened on first use."""
        members = frozenset(users) | {self.bot_user.id}
        with self._lock:
            for user in members:
                self.user(user)
            for conversation in self._conversations.values():
                if conversation.is_direct and conversation.members == members:
                    return conversation
            is_im = len(members) == 2
            conversation = Conversation(
                id=self.new_id("D" if is_im else "G"),
                type=ConversationType.IM if is_im else ConversationType.MPIM,
                name=None,
                created=self.now(),
                creator=self.bot_user.id,
                members=set(members),
            )
            self.add_conversation(conversation)
            return conversation

    # ---------------------------------------------------------------- messages

    def post(self, message: Message) -> Message:
        """Store a new message; a reply to a reply joins the root's thread, as in Slack."""
        with self._lock:
            if message.thread_ts is not None:
                parent = self._messages[message.channel].get(message.thread_ts)
                if parent is not None and parent.is_reply:
                    message = replace(message, thread_ts=parent.thread_ts)
            self._messages[message.channel][message.ts] = message
            self._changed("message_posted", message)
        return message

    def app_message(self, channel_id: str, **content: Any) -> Message:
        """A new message from the app (not stored yet): text, blocks, thread_ts, …"""
        return Message(
            channel_id,
            self.new_ts(),
            user=self.bot_user.id,
            bot_id=self.bot_id,
            app_id=self.app_id,
            **content,
        )

    def message(self, channel_id: str, ts: str) -> Message:
        message = self.find_message(channel_id, ts)
        if message is None or message.subtype == "tombstone":
            raise SlackError("message_not_found")
        return message

    def find_message(self, channel_id: str, ts: str | None) -> Message | None:
        with self._lock:
            return self._messages.get(channel_id, {}).get(ts or "")

    def update(self, message: Message) -> Message:
        """Replace a stored message (an edit, a reaction) by its new version."""
        with self._lock:
            self.message(message.channel, message.ts)
            self._messages[message.channel][message.ts] = message
            self._changed("message_changed", message)
        return message

    def delete(self, channel_id: str, ts: str) -> Message:
        """Remove a message; a thread's root stays as Slack's "This message was deleted." stub."""
        with self._lock:
            message = self.message(channel_id, ts)
            if self._replies_to(message):
                self._messages[channel_id][ts] = replace(
                    message, text=TOMBSTONE_TEXT, blocks=None, subtype="tombstone", reactions=()
                )
            else:
                del self._messages[channel_id][ts]
            self._changed("message_deleted", message)
        return message

    def react(self, channel_id: str, ts: str, name: str, user: str) -> Message:
        with self._lock:
            message = self.message(channel_id, ts)
            existing = message.reaction(name)
            if existing is not None and user in existing.users:
                raise SlackError("already_reacted")
            # Slack lists reactions in the order they were first added.
            if existing is None:
                reactions = (*message.reactions, Reaction(name, (user,)))
            else:
                reactions = tuple(
                    Reaction(name, (*r.users, user)) if r.name == name else r
                    for r in message.reactions
                )
            return self.update(replace(message, reactions=reactions))

    def unreact(self, channel_id: str, ts: str, name: str, user: str) -> Message:
        with self._lock:
            message = self.message(channel_id, ts)
            existing = message.reaction(name)
            if existing is None or user not in existing.users:
                raise SlackError("no_reaction")
            users = tuple(u for u in existing.users if u != user)
            reactions = tuple(
                Reaction(name, users) if r.name == name else r
                for r in message.reactions
                if r.name != name or users
            )
            return self.update(replace(message, reactions=reactions))

    def history(self, channel_id: str) -> list[Message]:
        """The channel's own messages, oldest first: roots and broadcast replies."""
        with self._lock:
            return [
                m
                for m in self._messages[self.conversation(channel_id).id].values()
                if not m.is_reply or m.reply_broadcast
            ]

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        """A thread's root followed by its replies, oldest first."""
        with self._lock:
            root = self._messages[self.conversation(channel_id).id].get(thread_ts)
            if root is None:
                raise SlackError("thread_not_found")
            return [root, *self._replies_to(root)]

    def _replies_to(self, root: Message) -> list[Message]:
        if root.is_reply:
            return []
        return [
            m
            for m in self._messages[root.channel].values()
            if m.is_reply and m.thread_ts == root.ts
        ]

    def message_json(self, message: Message) -> dict[str, Any]:
        """The message as the Web API and the Events API show it."""
        body: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
        optional = {
            "user": message.user,
            "bot_id": message.bot_id,
            "app_id": message.app_id,
            "subtype": message.subtype,
            "blocks": message.blocks,
            "attachments": message.attachments,
            "metadata": message.metadata,
            "thread_ts": message.thread_ts,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        body["team"] = self.team_id
        if message.bot_id:
            body["bot_profile"] = self._bot_profile()
        if message.edited_ts:
            body["edited"] = {"user": message.user, "ts": message.edited_ts}
        if message.reactions:
            body["reactions"] = [
                {"name": r.name, "users": list(r.users), "count": len(r.users)}
                for r in message.reactions
            ]
        if message.reply_broadcast:
            body["subtype"] = "thread_broadcast"
        with self._lock:
            replies = self._replies_to(message)
        if replies:
            reply_users = list(dict.fromkeys(r.user for r in replies if r.user))
            body.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users=reply_users,
                reply_users_count=len(reply_users),
                latest_reply=replies[-1].ts,
            )
        return body

    def _bot_profile(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_user.name,
            "team_id": self.team_id,
            "deleted": False,
        }

    # ---------------------------------------------------------------- ephemerals

    def post_ephemeral(self, ephemeral: Ephemeral) -> Ephemeral:
        with self._lock:
            self._ephemerals.append(ephemeral)
            self._changed("ephemeral_posted", ephemeral)
        return ephemeral

    def replace_ephemeral(self, old: Ephemeral, new: Ephemeral | None) -> None:
        """Swap an ephemeral for its new version, or drop it when `new` is None."""
        with self._lock:
            index = self._ephemerals.index(old)
            if new is None:
                del self._ephemerals[index]
            else:
                self._ephemerals[index] = new
            self._changed("ephemeral_replaced", new or old)

    def ephemerals(self) -> list[Ephemeral]:
        with self._lock:
            return list(self._ephemerals)

    # ---------------------------------------------------------------- views

    def issue_trigger(self, user: str) -> str:
        """A trigger_id for an interaction by `user`: single use, valid for `trigger_ttl`."""
        trigger_id = f"{next(self._ids)}.{self.team_id}.{int(self._clock() * 1000):x}"
        with self._lock:
            self._triggers[trigger_id] = _Trigger(user, time.monotonic())
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> str:
        """The user a trigger_id was issued to; it cannot be used again."""
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.exchanged:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() - trigger.issued_at > self._trigger_ttl:
                raise SlackError("expired_trigger_id")
            trigger.exchanged = True
            return trigger.user

    def open_modal(self, user: str, definition: dict[str, Any], *, push: bool) -> View:
        with self._lock:
            stack = self._modal_stacks.setdefault(user, [])
            if push and not stack:
                raise SlackError("invalid_arguments", ["[ERROR] no modal is open to push onto"])
            if push and len(stack) >= 3:
                raise SlackError("push_limit_reached")
            if not push:
                stack.clear()
            view_id = self.new_id("V")
            view = View(
                id=view_id,
                user=user,
                type="modal",
                definition=definition,
                hash=self._new_hash(),
                root_view_id=stack[0] if stack else view_id,
                previous_view_id=stack[-1] if stack else None,
            )
            self._views[view_id] = view
            stack.append(view_id)
            self._changed("view_opened", view)
        return view

    def update_view(
        self, view_id: str, definition: dict[str, Any], expected_hash: str | None
    ) -> View:
        with self._lock:
            view = self.view(view_id)
            if expected_hash is not None and expected_hash != view.hash:
                raise SlackError("hash_conflict")
            updated = replace(view, definition=definition, hash=self._new_hash(), state_values={})
            self._views[view_id] = updated
            self._changed("view_updated", updated)
        return updated

    def set_view_state(self, view_id: str, state_values: dict[str, Any]) -> View:
        with self._lock:
            view = replace(self.view(view_id), state_values=state_values)
            self._views[view_id] = view
        return view

    def close_modal(self, user: str, *, all_views: bool) -> None:
        """Close the user's top modal view, or the whole stack."""
        with self._lock:
            stack = self._modal_stacks.get(user, [])
            closed = stack[:] if all_views else stack[-1:]
            del stack[len(stack) - len(closed) :]
            self._changed("views_closed", tuple(closed))

    def open_modals(self, user: str) -> list[View]:
        """The user's modal stack, root first; empty when none is open."""
        with self._lock:
            return [self._views[view_id] for view_id in self._modal_stacks.get(user, [])]

    def view(self, view_id: str) -> View:
        with self._lock:
            if view_id not in self._views:
                raise SlackError("not_found")
            return self._views[view_id]

    def view_by_external_id(self, external_id: str) -> View:
        with self._lock:
            for view in self._views.values():
                if view.external_id == external_id:
                    return view
        raise SlackError("not_found")

    def views(self) -> list[View]:
        with self._lock:
            return list(self._views.values())

    def publish_home(
        self, user: str, definition: dict[str, Any], expected_hash: str | None
    ) -> View:
        with self._lock:
            self.user(user)
            view_id = self._homes.get(user)
            if view_id is None:
                view_id = self.new_id("V")
                self._homes[user] = view_id
            current = self._views.get(view_id)
            if expected_hash is not None and current is not None and current.hash != expected_hash:
                raise SlackError("hash_conflict")
            home = View(view_id, user, "home", definition, self._new_hash(), root_view_id=view_id)
            self._views[view_id] = home
            self._changed("home_published", home)
        return home

    def home(self, user: str) -> View | None:
        with self._lock:
            view_id = self._homes.get(user)
            return self._views[view_id] if view_id else None

    def view_json(self, view: View) -> dict[str, Any]:
        """The view as views.* answer it and as interaction payloads carry it."""
        return {
            "id": view.id,
            "team_id": self.team_id,
            "type": view.type,
            "blocks": view.blocks,
            "private_metadata": view.private_metadata,
            "callback_id": view.callback_id,
            "state": {"values": view.state_values},
            "hash": view.hash,
            "title": view.definition.get("title"),
            "submit": view.definition.get("submit"),
            "close": view.definition.get("close"),
            "clear_on_close": view.definition.get("clear_on_close", False),
            "notify_on_close": view.definition.get("notify_on_close", False),
            "external_id": view.external_id,
            "root_view_id": view.root_view_id,
            "previous_view_id": view.previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _new_hash(self) -> str:
        return f"{self.now()}.{next(self._ids):08x}"
