"""`/practice` and its subcommands: parse, ack, hand off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.help import help_message
from bot.listeners import critique_commands, roleplay, watching
from bot.services import Services

PRACTICE_COMMAND = "/practice"


@dataclass(frozen=True)
class Invocation:
    """One `/practice <subcommand> <rest>`: what a subcommand handler may use to answer."""

    ack: Ack
    command: dict
    rest: str
    client: WebClient
    respond: Respond
    context: BoltContext


def register(app: App, services: Services) -> None:
    subcommands: dict[str, Callable[[Invocation], None]] = {
        "help": lambda call: call.ack(**help_message()),
        **watching.subcommands(services),
        **critique_commands.subcommands(services),
        **roleplay.subcommands(services),
    }

    @app.command(PRACTICE_COMMAND)
    def practice(
        ack: Ack, command: dict, client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        name, rest = split_subcommand(command.get("text", ""))
        handler = subcommands.get(name) or roleplay.fallback(services, name, subcommands)
        handler(Invocation(ack, command, rest, client, respond, context))


def split_subcommand(text: str) -> tuple[str, str]:
    """`"check  my draft"` → `("check", "my draft")`; empty text starts a practice (the
    picker)."""
    name, _, rest = text.strip().partition(" ")
    return (name.lower() or "start", rest.strip())
