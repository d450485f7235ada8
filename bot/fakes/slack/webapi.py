"""The Web API methods the bot uses, answered the way slack.com answers them."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from bot.fakes._loopback import HttpRequest, HttpResponse
from bot.fakes.slack import events
from bot.fakes.slack.blocks import validate_message, validate_view
from bot.fakes.slack.errors import SlackError
from bot.fakes.slack.events import Event
from bot.fakes.slack.ratelimits import RateLimiter
from bot.fakes.slack.records import Conversation, ConversationType, Ephemeral, Message, User
from bot.fakes.slack.state import Workspace

# Parameters that arrive JSON-encoded inside form bodies, and the error Slack gives when they
# are not valid JSON.
_JSON_PARAMS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
    "view": "invalid_arguments",
}
_USER_ID_PREFIXES = ("U", "W")
_TS_PATTERN = re.compile(r"\d+\.\d+")


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the fake saw it, and what it answered."""

    method: str
    params: dict[str, Any]
    time: float  # time.time() when it arrived
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


class Args:
    """A request's parameters (query string, form or JSON body) with Slack's coercions."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def required(self, name: str) -> Any:
        value = self.params.get(name)
        if value in (None, ""):
            raise SlackError("invalid_arguments", [f"[ERROR] missing required field: {name}"])
        return value

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value in (None, "") else str(value)

    def flag(self, name: str) -> bool:
        return str(self.params.get(name, "")).lower() in ("1", "true")

    def integer(self, name: str, default: int) -> int:
        try:
            return int(self.params.get(name, default))
        except ValueError:
            raise SlackError("invalid_arguments", [f"[ERROR] {name} must be a number"]) from None

    def timestamp(self, name: str, default: float) -> float:
        value = self.text(name)
        try:
            return default if value is None else float(value)
        except ValueError:
            raise SlackError(f"invalid_ts_{name}") from None

    def json(self, name: str) -> Any:
        value = self.params.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value else None
        except ValueError:
            raise SlackError(_JSON_PARAMS.get(name, "invalid_arguments")) from None


class WebApi:
    def __init__(
        self, workspace: Workspace, *, bot_token: str, emit: Callable[[Event], None]
    ) -> None:
        self._workspace = workspace
        # Bot tokens the fake accepts, with the workspace each stands for in rate limits: one
        # fake workspace can stand in for many installs (see FakeSlack.add_install).
        self._tokens = {bot_token: workspace.team_id}
        self._emit = emit  # hands the events a call causes to the Events API
        self.rate_limiter = RateLimiter()
        self._outages: dict[str, deque[int]] = defaultdict(deque)  # method -> HTTP 5xx to answer
        self._revoked = False
        self._calls: list[ApiCall] = []
        self._calls_lock = threading.Lock()
        self._methods: dict[str, Callable[[Args], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroups_users_list,
            "team.info": self._team_info,
        }

    def fail(self, method: str, status: int, times: int) -> None:
        """The next `times` calls of `method` get HTTP `status` (a 5xx): Slack unwell."""
        with self._calls_lock:
            self._outages[method].extend([status] * times)

    def revoke_token(self) -> None:
        """The app was uninstalled: its bot tokens are refused from now on."""
        self._revoked = True

    def add_token(self, token: str, team_id: str) -> None:
        self._tokens[token] = team_id

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._calls_lock:
            return [call for call in self._calls if method is None or call.method == method]

    def handle(self, method: str, request: HttpRequest) -> HttpResponse:
        try:
            params = _request_params(request)
        except ValueError:
            params, answer = {}, (200, {}, {"ok": False, "error": "invalid_json"})
        else:
            token = _bearer_token(request) or params.pop("token", None)
            answer = self._answer(method, Args(params), token)
        status, headers, body = answer
        with self._calls_lock:
            self._calls.append(ApiCall(method, params, time.time(), status, body))
        return HttpResponse.json(body, status=status, headers=headers)

    def _answer(
        self, method: str, args: Args, token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        handler = self._methods.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token not in self._tokens or self._revoked:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        with self._calls_lock:
            outage = self._outages[method].popleft() if self._outages[method] else None
        if outage is not None:
            return outage, {}, {"ok": False, "error": "internal_error"}
        retry_after = self.rate_limiter.retry_after(
            method, team=self._tokens[token], channel=args.text("channel")
        )
        if retry_after is not None:
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        try:
            return 200, {}, {"ok": True, **handler(args)}
        except SlackError as error:
            return 200, {}, error.to_api()

    # ---------------------------------------------------------------- auth, team, users

    def _auth_test(self, args: Args) -> dict[str, Any]:
        ws = self._workspace
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.bot_user.name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user.id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _team_info(self, args: Args) -> dict[str, Any]:
        ws = self._workspace
        return {
            "team": {
                "id": ws.team_id,
                "name": ws.team_name,
                "domain": ws.team_domain,
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }

    def _users_info(self, args: Args) -> dict[str, Any]:
        return {"user": _user_json(self._workspace.user(args.required("user")), self._workspace)}

    def _usergroups_users_list(self, args: Args) -> dict[str, Any]:
        return {"users": list(self._workspace.usergroup_members(args.required("usergroup")))}

    # ---------------------------------------------------------------- chat

    def _chat_post_message(self, args: Args) -> dict[str, Any]:
        conversation = self._writable_conversation(args.required("channel"))
        text, blocks, attachments = args.text("text"), args.json("blocks"), args.json("attachments")
        validate_message(text, blocks, attachments)
        message = self._workspace.app_message(
            conversation.id,
            text=text or "",
            blocks=blocks,
            attachments=attachments,
            metadata=args.json("metadata"),
            thread_ts=_thread_ts(args),
            reply_broadcast=args.flag("reply_broadcast"),
        )
        message = self._workspace.post(message)
        for event in events.message_posted(self._workspace, message):
            self._emit(event)
        return {
            "channel": conversation.id,
            "ts": message.ts,
            "message": self._workspace.message_json(message),
        }

    def _chat_post_ephemeral(self, args: Args) -> dict[str, Any]:
        conversation = self._writable_conversation(args.required("channel"))
        user = args.required("user")
        if user not in conversation.members:
            raise SlackError("user_not_in_channel")
        text, blocks, attachments = args.text("text"), args.json("blocks"), args.json("attachments")
        validate_message(text, blocks, attachments)
        ephemeral = Ephemeral(
            conversation.id,
            user,
            self._workspace.new_ts(),
            text=text or "",
            blocks=blocks,
            attachments=attachments,
            thread_ts=args.text("thread_ts"),
        )
        self._workspace.post_ephemeral(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _chat_update(self, args: Args) -> dict[str, Any]:
        message = self._own_message(args, "cant_update_message")
        # Fields left out keep their current value, as in Slack.
        updated = replace(
            message,
            text=args.text("text") if "text" in args.params else message.text,
            blocks=args.json("blocks") if "blocks" in args.params else message.blocks,
            attachments=(
                args.json("attachments") if "attachments" in args.params else message.attachments
            ),
            edited_ts=self._workspace.new_ts(),
        )
        validate_message(updated.text, updated.blocks, updated.attachments)
        self._workspace.update(updated)
        self._emit(events.message_changed(self._workspace, message, updated))
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": updated.text,
            "message": self._workspace.message_json(updated),
        }

    def _chat_delete(self, args: Args) -> dict[str, Any]:
        message = self._own_message(args, "cant_delete_message")
        self._workspace.delete(message.channel, message.ts)
        self._emit(events.message_deleted(self._workspace, message))
        return {"channel": message.channel, "ts": message.ts}

    def _own_message(self, args: Args, refusal: str) -> Message:
        conversation = self._readable_conversation(args.required("channel"))
        message = self._workspace.message(conversation.id, args.required("ts"))
        if message.bot_id != self._workspace.bot_id:
            raise SlackError(refusal)
        return message

    # ---------------------------------------------------------------- conversations

    def _conversations_history(self, args: Args) -> dict[str, Any]:
        conversation = self._readable_conversation(args.required("channel"))
        oldest = args.timestamp("oldest", 0.0)
        latest = args.timestamp("latest", math.inf)
        inclusive = args.flag("inclusive")

        def in_window(message: Message) -> bool:
            ts = float(message.ts)
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        history = [m for m in self._workspace.history(conversation.id) if in_window(m)]
        return self._page(list(reversed(history)), args, default_limit=100)

    def _conversations_replies(self, args: Args) -> dict[str, Any]:
        conversation = self._readable_conversation(args.required("channel"))
        thread = self._workspace.thread(conversation.id, args.required("ts"))
        return self._page(thread, args, default_limit=1000)

    def _conversations_open(self, args: Args) -> dict[str, Any]:
        if args.text("channel"):
            conversation = self._readable_conversation(args.required("channel"))
        else:
            users = [u.strip() for u in str(args.required("users")).split(",") if u.strip()]
            conversation = self._workspace.direct_conversation(users)
        if args.flag("return_im"):
            return {"channel": self._conversation_json(conversation)}
        return {"channel": {"id": conversation.id}}

    def _conversations_info(self, args: Args) -> dict[str, Any]:
        conversation = self._visible_conversation(args.required("channel"))
        return {"channel": self._conversation_json(conversation)}

    def _conversations_join(self, args: Args) -> dict[str, Any]:
        conversation = self._visible_conversation(args.required("channel"))
        if conversation.type is not ConversationType.CHANNEL:
            raise SlackError("method_not_supported_for_channel_type")
        joined = self._workspace.join(conversation.id, self._workspace.bot_user.id)
        answer: dict[str, Any] = {"channel": self._conversation_json(conversation)}
        if not joined:
            answer["warning"] = "already_in_channel"
            answer["response_metadata"] = {"warnings": ["already_in_channel"]}
        return answer

    def _visible_conversation(self, channel: str) -> Conversation:
        """A conversation the app may know of: any public one, private ones it is in."""
        return self._workspace.conversation(channel, as_member=self._workspace.bot_user.id)

    def _readable_conversation(self, channel: str) -> Conversation:
        conversation = self._visible_conversation(channel)
        if self._workspace.bot_user.id not in conversation.members:
            raise SlackError("not_in_channel")
        return conversation

    def _writable_conversation(self, channel: str) -> Conversation:
        """Where chat.* may post: a channel the app is in, or a user's DM with the app."""
        if channel.startswith(_USER_ID_PREFIXES):
            try:
                return self._workspace.direct_conversation([channel])
            except SlackError:
                raise SlackError("channel_not_found") from None
        conversation = self._visible_conversation(channel)
        if conversation.is_archived:
            raise SlackError("is_archived")
        if self._workspace.bot_user.id not in conversation.members:
            raise SlackError("not_in_channel")
        return conversation

    def _conversation_json(self, conversation: Conversation) -> dict[str, Any]:
        ws = self._workspace
        kind = conversation.type
        body: dict[str, Any] = {
            "id": conversation.id,
            "created": conversation.created,
            "is_archived": conversation.is_archived,
            "is_channel": kind is ConversationType.CHANNEL,
            "is_group": kind is ConversationType.GROUP,
            "is_im": kind is ConversationType.IM,
            "is_mpim": kind is ConversationType.MPIM,
            "is_private": kind is not ConversationType.CHANNEL,
            "is_member": ws.bot_user.id in conversation.members,
            "context_team_id": ws.team_id,
        }
        if kind is ConversationType.IM:
            (body["user"],) = conversation.members - {ws.bot_user.id}
        else:
            body.update(
                name=conversation.name or conversation.id,
                creator=conversation.creator,
                num_members=len(conversation.members),
                topic={"value": "", "creator": "", "last_set": 0},
                purpose={"value": "", "creator": "", "last_set": 0},
            )
        return body

    def _page(self, messages: list[Message], args: Args, *, default_limit: int) -> dict[str, Any]:
        """One page of `messages` in Slack's cursor pagination ("next_ts:<ts>", base64)."""
        limit = max(1, min(args.integer("limit", default_limit), 1000))
        start = 0
        if cursor := args.text("cursor"):
            start = _cursor_position(cursor, messages)
        page = messages[start : start + limit]
        has_more = start + limit < len(messages)
        next_cursor = _encode_cursor(messages[start + limit].ts) if has_more else ""
        return {
            "messages": [self._workspace.message_json(m) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    # ---------------------------------------------------------------- reactions

    def _reactions_add(self, args: Args) -> dict[str, Any]:
        return self._react(args, added=True)

    def _reactions_remove(self, args: Args) -> dict[str, Any]:
        return self._react(args, added=False)

    def _react(self, args: Args, *, added: bool) -> dict[str, Any]:
        conversation = self._readable_conversation(args.required("channel"))
        ts, name = args.required("timestamp"), str(args.required("name")).strip(":")
        bot = self._workspace.bot_user.id
        if added:
            message = self._workspace.react(conversation.id, ts, name, bot)
        else:
            message = self._workspace.unreact(conversation.id, ts, name, bot)
        self._emit(events.reaction(self._workspace, message, name, bot, added=added))
        return {}

    # ---------------------------------------------------------------- views

    def _views_open(self, args: Args) -> dict[str, Any]:
        return self._open_modal(args, push=False)

    def _views_push(self, args: Args) -> dict[str, Any]:
        return self._open_modal(args, push=True)

    def _open_modal(self, args: Args, *, push: bool) -> dict[str, Any]:
        trigger_id, view = args.required("trigger_id"), args.json("view")
        validate_view(view, expected_type="modal")
        user = self._workspace.exchange_trigger(trigger_id)
        opened = self._workspace.open_modal(user, view, push=push)
        return {"view": self._workspace.view_json(opened)}

    def _views_update(self, args: Args) -> dict[str, Any]:
        view = args.json("view")
        validate_view(view, expected_type="modal")
        if args.text("view_id"):
            current = self._workspace.view(args.required("view_id"))
        else:
            current = self._workspace.view_by_external_id(args.required("external_id"))
        updated = self._workspace.update_view(current.id, view, args.text("hash"))
        return {"view": self._workspace.view_json(updated)}

    def _views_publish(self, args: Args) -> dict[str, Any]:
        view = args.json("view")
        validate_view(view, expected_type="home")
        home = self._workspace.publish_home(args.required("user_id"), view, args.text("hash"))
        return {"view": self._workspace.view_json(home)}


def _thread_ts(args: Args) -> str | None:
    """`thread_ts` if it looks like a message ts. Slack accepts one that matches no message: the
    reply is stored but shows nowhere, so a wrong ts in the app shows up as a missing reply."""
    thread_ts = args.text("thread_ts")
    if thread_ts is not None and not _TS_PATTERN.fullmatch(thread_ts):
        raise SlackError("invalid_thread_ts", [f"[ERROR] {thread_ts} is not a valid thread_ts"])
    return thread_ts


def _user_json(user: User, workspace: Workspace) -> dict[str, Any]:
    return {
        "id": user.id,
        "team_id": user.team_id or workspace.team_id,
        "name": user.name,
        "real_name": user.real_name,
        "deleted": False,
        "tz": user.tz,
        "tz_offset": user.tz_offset,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "profile": {
            "real_name": user.real_name,
            "display_name": user.name,
            "team": workspace.team_id,
        },
    }


def _request_params(request: HttpRequest) -> dict[str, Any]:
    """A call's arguments from the query string and a form or JSON body (ValueError: bad JSON)."""
    params: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json") and request.body:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("a JSON body must be an object")
        params.update(body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(request.body.decode()))
    return params


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_position(cursor: str, messages: list[Message]) -> int:
    try:
        ts = base64.b64decode(cursor, validate=True).decode().removeprefix("next_ts:")
    except ValueError:
        raise SlackError("invalid_cursor") from None
    for index, message in enumerate(messages):
        if message.ts == ts:
            return index
    raise SlackError("invalid_cursor")
