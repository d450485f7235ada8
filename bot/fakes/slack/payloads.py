"""What Slack POSTs to the app's Request URL, field for field."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.fakes.slack.blocks import element_action
from bot.fakes.slack.records import Conversation, ConversationType, Ephemeral, Message, View
from bot.fakes.slack.state import Workspace

# The legacy verification token; bolt ignores it (it checks signatures) but Slack still sends it.
VERIFICATION_TOKEN = "fake-verification-token"


def event_envelope(workspace: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "context_team_id": workspace.team_id,
        "context_enterprise_id": None,
        "api_app_id": workspace.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": workspace.team_id,
                "user_id": workspace.bot_user.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_hex(16),
    }


def url_verification(challenge: str) -> dict[str, Any]:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def slash_command(
    workspace: Workspace,
    user: str,
    conversation: Conversation,
    *,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": workspace.team_id,
        "team_domain": workspace.team_domain,
        "channel_id": conversation.id,
        "channel_name": _channel_name(conversation),
        "user_id": user,
        "user_name": workspace.user(user).name,
        "command": command,
        "text": text,
        "api_app_id": workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions(
    workspace: Workspace,
    user: str,
    target: Message | Ephemeral | View,
    element: tuple[str, dict[str, Any]],
    value: Any,
    *,
    trigger_id: str,
    response_url: str | None,
) -> dict[str, Any]:
    block_id, definition = element
    action = {
        **element_action(definition, value),
        "action_id": definition["action_id"],
        "block_id": block_id,
        "action_ts": workspace.new_ts(),
    }
    payload = {
        **_interaction_base(workspace, user, "block_actions", trigger_id),
        "actions": [action],
        "state": {"values": {}},
    }
    if isinstance(target, View):
        return {
            **payload,
            "container": {"type": "view", "view_id": target.id},
            "view": workspace.view_json(target),
        }
    container = {
        "type": "message",
        "message_ts": target.ts,
        "channel_id": target.channel,
        "is_ephemeral": isinstance(target, Ephemeral),
    }
    if target.thread_ts:
        container["thread_ts"] = target.thread_ts
    payload.update(
        container=container,
        channel=_channel_json(workspace.conversation(target.channel)),
        response_url=response_url,
    )
    if isinstance(target, Message):  # Slack does not send ephemeral messages back to the app
        payload["message"] = workspace.message_json(target)
    return payload


def message_shortcut(
    workspace: Workspace,
    user: str,
    message: Message,
    callback_id: str,
    *,
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    return {
        **_interaction_base(workspace, user, "message_action", trigger_id),
        "callback_id": callback_id,
        "action_ts": workspace.new_ts(),
        "message_ts": message.ts,
        "message": workspace.message_json(message),
        "channel": _channel_json(workspace.conversation(message.channel)),
        "response_url": response_url,
    }


def view_submission(
    workspace: Workspace, user: str, view: View, *, trigger_id: str
) -> dict[str, Any]:
    return {
        **_interaction_base(workspace, user, "view_submission", trigger_id),
        "view": workspace.view_json(view),
        "response_urls": [],
    }


def _interaction_base(
    workspace: Workspace, user: str, kind: str, trigger_id: str
) -> dict[str, Any]:
    person = workspace.user(user)
    return {
        "type": kind,
        "token": VERIFICATION_TOKEN,
        "api_app_id": workspace.app_id,
        "team": {"id": workspace.team_id, "domain": workspace.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": {
            "id": person.id,
            "username": person.name,
            "name": person.name,
            "team_id": workspace.team_id,
        },
        "trigger_id": trigger_id,
    }


def _channel_json(conversation: Conversation) -> dict[str, str]:
    return {"id": conversation.id, "name": _channel_name(conversation)}


def _channel_name(conversation: Conversation) -> str:
    if conversation.type is ConversationType.IM:
        return "directmessage"
    if conversation.type is ConversationType.MPIM:
        return "mpdm"
    return conversation.name or conversation.id
