"""deploy/slack-app-manifest.yml asks for exactly what the code uses (least privilege).

The code side is read statically: the listeners each listener module registers
(`app.command("/x")`, `app.event("y")`, …, string literals or module constants) and the Web API
methods called anywhere in bot/ (`client.chat_postMessage(…)`, `say(…)`).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.slack_scopes import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yml").read_text())

# The bot scope each Web API method needs (https://api.slack.com/methods). A method the bot
# starts to call must be added here, which makes the scope review explicit.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "conversations.replies": "channels:history",
    "conversations.history": "channels:history",
    "conversations.info": "channels:read",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
}
EVENT_SCOPES: dict[str, str | None] = {
    "app_mention": "app_mentions:read",
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "subteam_members_changed": "usergroups:read",
}
LISTENER_KINDS = {"command", "event", "shortcut", "message_shortcut", "action", "view"}
WEB_API_METHODS = {name for name in dir(WebClient) if not name.startswith("_")}


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """String constants a listener module defines, or imports from bot (e.g. action ids shared
    with the Block Kit that renders the buttons)."""
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, str):
                    constants[alias.asname or alias.name] = value
    return constants


def _registered_listeners() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "bot" / "listeners").glob("*.py"):
        tree = ast.parse(path.read_text())
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
                and node.func.attr in LISTENER_KINDS
                and node.args
            ):
                argument = node.args[0]
                value = (
                    argument.value if isinstance(argument, ast.Constant) else constants[argument.id]
                )
                found.add((node.func.attr, value))
    return found


def _web_api_methods_called() -> set[str]:
    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "fakes" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr in WEB_API_METHODS:
                called.add(node.func.attr.replace("_", "."))
            elif isinstance(node.func, ast.Name) and node.func.id == "say":
                called.add("chat.postMessage")
    return called - {"api.call"}


def test_every_slash_command_the_code_handles_is_in_the_manifest_and_vice_versa() -> None:
    in_code = {value for kind, value in _registered_listeners() if kind == "command"}
    in_manifest = {entry["command"] for entry in MANIFEST["features"].get("slash_commands", [])}
    assert in_code == in_manifest


def test_every_event_the_code_handles_is_subscribed_and_vice_versa() -> None:
    in_code = {value for kind, value in _registered_listeners() if kind == "event"}
    subscriptions = MANIFEST["settings"].get("event_subscriptions", {}).get("bot_events", [])
    # The manifest names message events per conversation type: message.channels, message.im …
    assert in_code == {event.split(".")[0] for event in subscriptions}


def test_every_shortcut_the_code_handles_is_in_the_manifest_and_vice_versa() -> None:
    kinds = {"shortcut", "message_shortcut"}
    in_code = {value for kind, value in _registered_listeners() if kind in kinds}
    in_manifest = {entry["callback_id"] for entry in MANIFEST["features"].get("shortcuts", [])}
    assert in_code == in_manifest


def test_the_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    listeners = _registered_listeners()
    needed = {METHOD_SCOPES[method] for method in _web_api_methods_called()}
    subscriptions = MANIFEST["settings"].get("event_subscriptions", {}).get("bot_events", [])
    needed |= {EVENT_SCOPES[event] for event in subscriptions}
    if any(kind in {"command", "shortcut", "message_shortcut"} for kind, _ in listeners):
        needed.add("commands")
    needed.discard(None)
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed
    assert set(BOT_SCOPES) == needed


def test_interactivity_is_on_exactly_when_the_code_handles_interactions() -> None:
    interactive = any(
        kind in {"action", "view", "shortcut", "message_shortcut"}
        for kind, _ in _registered_listeners()
    )
    assert MANIFEST["settings"].get("interactivity", {}).get("is_enabled", False) == interactive
