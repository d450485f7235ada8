"""`FakeSlack`: a Slack workspace on loopback for the real slack_sdk and bolt to talk to.

It is both ends of Slack: the Web API the app calls (`api_url`), and the platform that calls the
app's Request URL when people use it (`send_command`, `user_posts`, `click`, …). Tests build the
workspace, act as its people, and read back what the app did:

    with FakeSlack(signing_secret="secret") as slack:
        alice = slack.add_user("alice")
        support = slack.add_channel("support", members=[alice])
        app = App(signing_secret="secret", client=WebClient(base_url=slack.api_url, token=…))
        … serve `app` over HTTP …
        slack.connect("http://127.0.0.1:PORT/slack/events")
        slack.send_command(alice, support, "/practice", "help")
        slack.wait_until(lambda: slack.ephemerals(user=alice))
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Self
from urllib.parse import urlencode

from bot.fakes._loopback import HttpRequest, HttpResponse, LoopbackServer
from bot.fakes.slack import events, payloads
from bot.fakes.slack.blocks import find_element, input_state
from bot.fakes.slack.driver import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    SLACK_ACK_DEADLINE,
    AppConnection,
    Delivery,
    Outbox,
)
from bot.fakes.slack.events import Event
from bot.fakes.slack.records import (
    Change,
    Conversation,
    ConversationType,
    Ephemeral,
    Message,
    User,
    View,
)
from bot.fakes.slack.responses import (
    RESPONSE_PATH_PREFIX,
    Responder,
    ResponseTarget,
    apply_view_submission_answer,
)
from bot.fakes.slack.state import Workspace
from bot.fakes.slack.webapi import ApiCall, WebApi

API_PATH_PREFIX = "/api/"
RESPONSE_URL = "response_url"  # the name `rate_limit` knows response URLs by
# Event subscription names for `message` events, by where the message was posted.
_MESSAGE_SUBSCRIPTIONS = {
    ConversationType.CHANNEL: "message.channels",
    ConversationType.GROUP: "message.groups",
    ConversationType.IM: "message.im",
    ConversationType.MPIM: "message.mpim",
}


class RequestUrlError(RuntimeError):
    """The app did not answer Slack's url_verification challenge."""


class FakeSlack:
    def __init__(
        self,
        signing_secret: str = "fake-signing-secret",
        *,
        team_id: str = "T0FAKE",
        team_name: str = "Fake Workspace",
        team_domain: str = "fake-workspace",
        bot_token: str = "xoxb-fake",
        bot_user_id: str = "UBOT",
        bot_name: str = "fakebot",
        bot_id: str = "BBOT",
        app_id: str = "AFAKE",
        ack_deadline: float = SLACK_ACK_DEADLINE,
        event_retry_delays: Iterable[float] = (0.0, 0.0, 0.0),
        trigger_ttl: float = 3.0,
        event_types: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`event_types`: the app's event subscriptions ("message", "message.im", "app_mention",
        …), None for all. `clock` stamps messages (pass a fixed one for stable timestamps);
        `ack_deadline` and `event_retry_delays` stand in for Slack's 3 s and 0/60/300 s."""
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.event_types = set(event_types) if event_types is not None else None
        bot_user = User(bot_user_id, bot_name, bot_name, is_bot=True)
        self._workspace = Workspace(
            team_id=team_id,
            team_name=team_name,
            team_domain=team_domain,
            bot_user=bot_user,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
            trigger_ttl=trigger_ttl,
        )
        self._server = LoopbackServer(self._route, host=host, port=port)
        self._outbox = Outbox(self._deliver_event)
        self._web_api = WebApi(self._workspace, bot_token=bot_token, emit=self._outbox.put)
        self._responder = Responder(
            self._workspace, origin=lambda: self._server.origin, emit=self._outbox.put
        )
        self._connection = AppConnection(
            signing_secret, ack_deadline=ack_deadline, retry_delays=tuple(event_retry_delays)
        )
        self._deliveries: list[Delivery] = []

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self._server.start()
        self._outbox.start()

    def stop(self) -> None:
        self._outbox.stop()
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL for `WebClient(base_url=...)`; method names are appended."""
        return f"{self._server.origin}{API_PATH_PREFIX}"

    @property
    def bot_user_id(self) -> str:
        return self._workspace.bot_user.id

    # ---------------------------------------------------------------- building the workspace

    def add_user(
        self,
        name: str,
        *,
        is_bot: bool = False,
        is_admin: bool = False,
        real_name: str = "",
        team_id: str | None = None,
    ) -> str:
        """A person of this workspace, or with `team_id` one of another organisation met in a
        Slack Connect channel (`is_admin` then of their own workspace)."""
        user = User(
            self._workspace.new_id("U"),
            name,
            real_name or name.title(),
            is_bot=is_bot,
            is_admin=is_admin,
            team_id=team_id,
        )
        self._workspace.add_user(user)
        return user.id

    def add_channel(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> str:
        members = list(members)
        people = set(members) | ({self.bot_user_id} if bot_is_member else set())
        for person in people:
            self._workspace.user(person)
        conversation = Conversation(
            id=self._workspace.new_id("C"),
            type=ConversationType.GROUP if is_private else ConversationType.CHANNEL,
            name=name,
            created=self._workspace.now(),
            creator=members[0] if members else self.bot_user_id,
            members=people,
        )
        self._workspace.add_conversation(conversation)
        return conversation.id

    def archive_channel(self, channel: str) -> None:
        self._workspace.archive(channel)

    def add_usergroup(self, handle: str, members: Iterable[str]) -> str:
        """A user group (@handle); returns its id, "S…"."""
        group_id = self._workspace.new_id("S")
        self._workspace.add_usergroup(group_id, members)
        return group_id

    def dm_channel(self, user: str) -> str:
        """The id of the app's DM with `user` ("D…"), opening it if needed."""
        return self._workspace.direct_conversation([user]).id

    # ---------------------------------------------------------------- reading back

    def messages(self, channel: str, thread_ts: str | None = None) -> list[Message]:
        """Top-level messages, oldest first; with `thread_ts`, that thread: root, then replies."""
        if thread_ts is None:
            return self._workspace.history(channel)
        return self._workspace.thread(channel, thread_ts)

    def dm_messages(self, user: str) -> list[Message]:
        return self.messages(self.dm_channel(user))

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self._workspace.ephemerals()
            if user in (None, e.user) and channel in (None, e.channel)
        ]

    @property
    def views(self) -> list[View]:
        """Every modal and home tab the app has set, in its latest version."""
        return self._workspace.views()

    def modals(self, user: str) -> list[View]:
        """The modals open on `user`'s screen, bottom of the stack first."""
        return self._workspace.open_modals(user)

    def home(self, user: str) -> View | None:
        return self._workspace.home(user)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every Web API call the app made (or only `method`'s), in order."""
        return self._web_api.calls(method)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every request the fake made to the app, in order."""
        return list(self._deliveries)

    def subscribe(self, observer: Callable[[Change], None]) -> Callable[[], None]:
        """Call `observer` on every change to the workspace; returns the unsubscribe function.

        Observers run on the thread that made the change, under the workspace lock: keep them
        quick, e.g. hand the change to a queue.
        """
        return self._workspace.subscribe(observer)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 2.0) -> None:
        """Wait for the app to do something, e.g. `lambda: fake.messages(channel)`.

        `condition` is checked after every change to the workspace and polled every 10 ms, so it
        may also look at what the app under test recorded.
        """
        if not self._workspace.wait_until(condition, timeout):
            raise TimeoutError(f"condition still false after {timeout} s")

    def wait_idle(self, timeout: float = 2.0) -> None:
        """Wait until the events the app's own calls caused have been delivered to it."""
        if not self._outbox.wait_idle(timeout):
            raise TimeoutError(f"events still being delivered after {timeout} s")

    # ---------------------------------------------------------------- rate limits

    def rate_limit(self, method: str, retry_after: float = 1, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP 429 and `Retry-After`.

        Slack sends whole seconds; a fraction shows whether callers keep it.
        """
        self._web_api.rate_limiter.force(method, retry_after, times)

    def fail(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of Web API `method` get HTTP `status` (Slack unwell)."""
        self._web_api.fail(method, status, times)

    def expire_response_urls(self) -> None:
        """Every response URL, given out or not yet, answers 404 from now on: as Slack does
        once one was used five times or is older than 30 minutes."""
        self._responder.expired = True

    def revoke_bot_token(self) -> None:
        """As after an uninstall: every call with the bot token gets invalid_auth."""
        self._web_api.revoke_token()

    def rate_limit_tier(self, method: str, calls_per_minute: int | None) -> None:
        """Answer 429 to calls past `calls_per_minute` in any 60 s (None lifts the limit)."""
        self._web_api.rate_limiter.set_tier(method, calls_per_minute)

    def rate_limit_per_channel(self, method: str, calls_per_second: int | None) -> None:
        """Answer 429 past `calls_per_second` in any second to one channel, as Slack does for
        chat.postMessage (about 1 a second per channel); None lifts the limit."""
        self._web_api.rate_limiter.set_per_channel(method, calls_per_second)

    def rate_limit_per_workspace(
        self, method: str, calls_per_minute: int | None, *, window_seconds: float = 60.0
    ) -> None:
        """Answer 429 past `calls_per_minute` in any 60 s from one workspace's token; a shorter
        `window_seconds` is for tests that cannot wait out Slack's minute."""
        self._web_api.rate_limiter.set_per_workspace(method, calls_per_minute, window_seconds)

    # ---------------------------------------------------------------- many installs

    def add_install(self, team_id: str) -> str:
        """Accept another bot token, counted as workspace `team_id` in rate limits; returns it.

        The fake keeps one workspace's state: an OAuth install's channels are made with
        `add_channel` like any other (channel ids are unique across workspaces in Slack too).
        """
        token = f"xoxb-{team_id}-{secrets.token_hex(8)}"
        self._web_api.add_token(token, team_id)
        return token

    # ---------------------------------------------------------------- the app's Request URL

    def connect(self, request_url: str, *, verify: bool = True) -> Delivery | None:
        """Point Slack at the app; like Slack, check it first with a url_verification challenge."""
        self._connection.request_url = request_url
        if not verify:
            return None
        challenge = secrets.token_urlsafe(24)
        payload = payloads.url_verification(challenge)
        body = json.dumps(payload).encode()
        delivery = self._record(
            self._connection.deliver("url_verification", payload, body, JSON_CONTENT_TYPE)
        )
        echoed = delivery.json()
        if not delivery.attempts[0].acked or challenge not in (
            delivery.body,
            echoed.get("challenge") if isinstance(echoed, dict) else None,
        ):
            self._connection.request_url = None
            raise RequestUrlError(f"{request_url} did not echo the challenge: {delivery.body!r}")
        return delivery

    def disconnect(self) -> None:
        """Stop calling the app (people's actions still change the workspace): for building a
        large workspace before a test without delivering every step of it."""
        self._connection.request_url = None

    def sign(self, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
        """The X-Slack-Signature and X-Slack-Request-Timestamp headers Slack would send."""
        return self._connection.sign(body, timestamp)

    def post_to_app(
        self,
        body: bytes,
        *,
        content_type: str = JSON_CONTENT_TYPE,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """POST `body` to the app as is, signed unless `headers` are given (e.g. a bad one)."""
        delivery = self._connection.deliver("raw", body, body, content_type, headers=headers)
        return self._record(delivery)

    def send_event(self, event: Event) -> Delivery:
        """Deliver `event` in an Events API envelope, retrying as Slack does until acked."""
        envelope = payloads.event_envelope(self._workspace, event)
        return self._record(self._connection.deliver_event(envelope))

    def redeliver(self, delivery: Delivery, reason: str = "http_timeout") -> Delivery:
        """Send a delivered event again as Slack's next retry (same event_id)."""
        return self._record(self._connection.redeliver(delivery, reason))

    def send_command(
        self, user: str, channel: str, command: str = "/practice", text: str = ""
    ) -> Delivery:
        """`user` runs a slash command in `channel`; the ack's body is shown as Slack would."""
        conversation = self._conversation_of(user, channel)
        target = ResponseTarget(conversation.id, user)
        fields = payloads.slash_command(
            self._workspace,
            user,
            conversation,
            command=command,
            text=text,
            response_url=self._responder.response_url(target),
            trigger_id=self._workspace.issue_trigger(user),
        )
        body = urlencode(fields).encode()
        delivery = self._connection.deliver("command", fields, body, FORM_CONTENT_TYPE)
        outcome = self._responder.show_command_answer(command, target, delivery)
        return self._record(replace(delivery, outcome=outcome))

    def send_shortcut(self, user: str, channel: str, message_ts: str, callback_id: str) -> Delivery:
        """`user` picks the app's message shortcut `callback_id` on a message."""
        conversation = self._conversation_of(user, channel)
        message = self._workspace.message(conversation.id, message_ts)
        payload = payloads.message_shortcut(
            self._workspace,
            user,
            message,
            callback_id,
            trigger_id=self._workspace.issue_trigger(user),
            response_url=self._responder.response_url(ResponseTarget(conversation.id, user)),
        )
        return self._record(self._interact(payload))

    def click(
        self, user: str, target: Message | Ephemeral | View, action_id: str, value: Any = None
    ) -> Delivery:
        """`user` uses the element `action_id` of a message, ephemeral, modal or home tab.

        Buttons send their own value; for selects, pickers and the like `value` is what the
        user picked (an option's value, a user id, a date…).
        """
        current = self._current(user, target)
        element = find_element(current.blocks or [], action_id)
        response_url = None
        if not isinstance(current, View):
            source = ResponseTarget(current.channel, user, current)
            response_url = self._responder.response_url(source)
        payload = payloads.block_actions(
            self._workspace,
            user,
            current,
            element,
            value,
            trigger_id=self._workspace.issue_trigger(user),
            response_url=response_url,
        )
        return self._record(self._interact(payload))

    def submit_view(
        self, user: str, view_id: str, values: dict[str, Any] | None = None
    ) -> Delivery:
        """`user` fills in the open modal (`values` by input action_id) and presses Submit."""
        stack = self._workspace.open_modals(user)
        if not stack or stack[-1].id != view_id:
            raise LookupError(f"{view_id} is not the modal on top of {user}'s screen")
        view = self._workspace.set_view_state(view_id, input_state(stack[-1].blocks, values or {}))
        payload = payloads.view_submission(
            self._workspace, user, view, trigger_id=self._workspace.issue_trigger(user)
        )
        delivery = self._interact(payload)
        outcome = apply_view_submission_answer(self._workspace, user, view, delivery)
        return self._record(replace(delivery, outcome=outcome))

    # ---------------------------------------------------------------- people using Slack

    def user_posts(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> str:
        """`user` posts `text` (in a thread with `thread_ts`); returns the message's ts."""
        conversation = self._conversation_of(user, channel)
        message = Message(
            conversation.id, self._workspace.new_ts(), text=text, user=user, thread_ts=thread_ts
        )
        message = self._workspace.post(message)
        for event in events.message_posted(self._workspace, message):
            self._deliver_event(event)
        return message.ts

    def user_edits(self, user: str, channel: str, ts: str, text: str) -> Delivery | None:
        message = self._own_message(user, channel, ts)
        edited = replace(message, text=text, edited_ts=self._workspace.new_ts())
        self._workspace.update(edited)
        return self._deliver_event(events.message_changed(self._workspace, message, edited))

    def user_deletes(self, user: str, channel: str, ts: str) -> Delivery | None:
        message = self._own_message(user, channel, ts)
        self._workspace.delete(channel, ts)
        return self._deliver_event(events.message_deleted(self._workspace, message))

    def user_reacts(self, user: str, channel: str, ts: str, name: str) -> Delivery | None:
        conversation = self._conversation_of(user, channel)
        message = self._workspace.react(conversation.id, ts, name, user)
        return self._deliver_event(
            events.reaction(self._workspace, message, name, user, added=True)
        )

    def user_unreacts(self, user: str, channel: str, ts: str, name: str) -> Delivery | None:
        conversation = self._conversation_of(user, channel)
        message = self._workspace.unreact(conversation.id, ts, name, user)
        return self._deliver_event(
            events.reaction(self._workspace, message, name, user, added=False)
        )

    def open_home(self, user: str) -> Delivery | None:
        """`user` opens the app's Home tab."""
        channel = self.dm_channel(user)
        return self._deliver_event(events.app_home_opened(self._workspace, user, channel))

    # ---------------------------------------------------------------- internals

    def _route(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PATH_PREFIX):
            return self._web_api.handle(request.path.removeprefix(API_PATH_PREFIX), request)
        if request.method == "POST" and request.path.startswith(RESPONSE_PATH_PREFIX):
            # `rate_limit(RESPONSE_URL)` makes response URLs answer 429 too.
            retry_after = self._web_api.rate_limiter.retry_after(RESPONSE_URL)
            if retry_after is not None:
                return HttpResponse.text(
                    "rate limited", status=429, headers={"Retry-After": str(retry_after)}
                )
            response_id = request.path.removeprefix(RESPONSE_PATH_PREFIX)
            return self._responder.handle_post(response_id, request.body)
        return HttpResponse.text("not found", status=404)

    def _record(self, delivery: Delivery) -> Delivery:
        self._deliveries.append(delivery)
        return delivery

    def _deliver_event(self, event: Event) -> Delivery | None:
        """Deliver an event that happened in the workspace, if the app would receive it."""
        if self._connection.request_url is None or not self._app_receives(event):
            return None
        return self.send_event(event)

    def _app_receives(self, event: Event) -> bool:
        channel = events.channel_of(event)
        conversation = self._workspace.conversation(channel) if channel else None
        if self.event_types is not None:
            names = {event["type"]}
            if event["type"] == "message" and conversation is not None:
                names.add(_MESSAGE_SUBSCRIPTIONS[conversation.type])
            if not names & self.event_types:
                return False
        # Apps only hear about conversations they are in.
        return conversation is None or self.bot_user_id in conversation.members

    def _interact(self, payload: dict[str, Any]) -> Delivery:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._connection.deliver("interaction", payload, body, FORM_CONTENT_TYPE)

    def _conversation_of(self, user: str, channel: str) -> Conversation:
        """Where `user` acts: a conversation they are a member of and may still post in."""
        conversation = self._workspace.conversation(channel)
        if user not in conversation.members:
            raise LookupError(f"{user} is not a member of {channel}")
        if conversation.is_archived:
            raise LookupError(f"{channel} is archived")
        return conversation

    def _own_message(self, user: str, channel: str, ts: str) -> Message:
        message = self._workspace.message(self._conversation_of(user, channel).id, ts)
        if message.user != user or message.bot_id is not None:
            raise LookupError(f"{user} can only change their own messages")
        return message

    def _current(self, user: str, target: Message | Ephemeral | View) -> Message | Ephemeral | View:
        """The latest version of what `user` is looking at, checking they can see it."""
        if isinstance(target, Message):
            return self._workspace.message(
                self._conversation_of(user, target.channel).id, target.ts
            )
        if isinstance(target, View):
            view = self._workspace.view(target.id)
            on_screen = view.type == "home" or view in self._workspace.open_modals(user)
            if view.user != user or not on_screen:
                raise LookupError(f"{target.id} is not on {user}'s screen")
            return view
        for ephemeral in self.ephemerals(user=user, channel=target.channel):
            if ephemeral.ts == target.ts:
                return ephemeral
        raise LookupError(f"ephemeral {target.ts} is not shown to {user}")
