"""What Slack does with the app's answers that are not Web API calls.

A slash command's ack body and POSTs to a `response_url` follow the same rules: ephemeral to the
user who invoked the app unless `response_type` is `in_channel`, and, from an interaction on a
message, `replace_original` / `delete_original` act on that message. A view_submission's ack
may carry a `response_action` for the modal.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.fakes._loopback import HttpResponse
from bot.fakes.slack import events
from bot.fakes.slack.blocks import validate_message, validate_view
from bot.fakes.slack.driver import Delivery
from bot.fakes.slack.errors import SlackError
from bot.fakes.slack.events import Event
from bot.fakes.slack.records import Ephemeral, Message, View
from bot.fakes.slack.state import Workspace

RESPONSE_PATH_PREFIX = "/response/"


@dataclass
class ResponseTarget:
    """Where a response lands: the invoking user, their channel, the message they acted on."""

    channel: str
    user: str
    source: Message | Ephemeral | None = None


class Responder:
    def __init__(
        self, workspace: Workspace, *, origin: Callable[[], str], emit: Callable[[Event], None]
    ) -> None:
        self._workspace = workspace
        self._origin = origin  # the fake's base URL, known once its server is listening
        self._emit = emit
        self._targets: dict[str, ResponseTarget] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.expired = False  # every response URL answers 404, as when used up or too old

    def response_url(self, target: ResponseTarget) -> str:
        with self._lock:
            response_id = f"{self._workspace.team_id}-{next(self._ids)}"
            self._targets[response_id] = target
        return f"{self._origin()}{RESPONSE_PATH_PREFIX}{response_id}"

    def handle_post(self, response_id: str, body: bytes) -> HttpResponse:
        """A POST to a response_url: answered "ok", or an error in plain text like Slack's."""
        with self._lock:
            target = self._targets.get(response_id)
        if target is None:
            return HttpResponse.text("no_active_hooks", status=404)
        if self.expired:
            return HttpResponse.text("expired_url", status=404)
        try:
            self.show(target, json.loads(body))
        except ValueError:
            return HttpResponse.text("invalid_payload", status=400)
        except SlackError as error:
            return HttpResponse.text(error.code, status=400)
        return HttpResponse.text("ok")

    def show(self, target: ResponseTarget, reply: dict[str, Any]) -> str:
        """Apply `reply` for `target`; returns what happened, e.g. "ephemeral"."""
        if reply.get("delete_original") and target.source is not None:
            self._delete(target)
            return "deleted_original"
        text, blocks, attachments = reply.get("text"), reply.get("blocks"), reply.get("attachments")
        validate_message(text, blocks, attachments)
        content = {"text": text or "", "blocks": blocks, "attachments": attachments}
        if reply.get("replace_original") and target.source is not None:
            self._replace(target, content)
            return "replaced_original"
        thread_ts = reply.get("thread_ts")
        if reply.get("response_type") == "in_channel":
            message = self._workspace.post(
                self._workspace.app_message(target.channel, thread_ts=thread_ts, **content)
            )
            for event in events.message_posted(self._workspace, message):
                self._emit(event)
            return "in_channel"
        ephemeral = Ephemeral(
            target.channel, target.user, self._workspace.new_ts(), thread_ts=thread_ts, **content
        )
        self._workspace.post_ephemeral(ephemeral)
        return "ephemeral"

    def show_command_answer(
        self, command: str, target: ResponseTarget, delivery: Delivery
    ) -> str | None:
        """Show a command's ack body to its user; a late or failed ack shows Slack's error."""
        first = delivery.attempts[0]
        if not first.acked:
            error = "operation_timeout" if first.failure == "http_timeout" else "dispatch_failed"
            self.show(target, {"text": f'{command} failed with the error "{error}"'})
            return f"error:{error}"
        if not delivery.body:
            return None
        answer = delivery.json()
        try:
            return self.show(
                target, answer if isinstance(answer, dict) else {"text": delivery.body}
            )
        except SlackError as error:
            return f"rejected:{error.code}"

    def _delete(self, target: ResponseTarget) -> None:
        source = target.source
        if isinstance(source, Ephemeral):
            self._workspace.replace_ephemeral(source, None)
        elif isinstance(source, Message):
            deleted = self._workspace.delete(source.channel, source.ts)
            self._emit(events.message_deleted(self._workspace, deleted))
        target.source = None

    def _replace(self, target: ResponseTarget, content: dict[str, Any]) -> None:
        source = target.source
        if isinstance(source, Ephemeral):
            new_ephemeral = replace(source, **content)
            self._workspace.replace_ephemeral(source, new_ephemeral)
            target.source = new_ephemeral
        elif isinstance(source, Message):
            current = self._workspace.message(source.channel, source.ts)
            updated = self._workspace.update(replace(current, **content))
            self._emit(events.message_changed(self._workspace, current, updated))
            target.source = updated


def apply_view_submission_answer(
    workspace: Workspace, user: str, view: View, delivery: Delivery
) -> str:
    """Do what a view_submission's ack asks (`response_action`); returns what happened."""
    if not delivery.attempts[0].acked:
        return "error:view_submission_failed"  # the modal stays open, with an error banner
    answer = delivery.json()
    action = answer.get("response_action") if isinstance(answer, dict) else None
    try:
        if action == "errors":
            return "errors"
        if action == "update":
            validate_view(answer.get("view"), expected_type="modal")
            workspace.update_view(view.id, answer["view"], expected_hash=None)
            return "view_updated"
        if action == "push":
            validate_view(answer.get("view"), expected_type="modal")
            workspace.open_modal(user, answer["view"], push=True)
            return "view_pushed"
        workspace.close_modal(user, all_views=action == "clear")
        return "views_cleared" if action == "clear" else "view_closed"
    except SlackError as error:
        return f"rejected:{error.code}"
