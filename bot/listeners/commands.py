"""`/practice` and its subcommands: parse, ack, hand off."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App

from bot.blocks.help import help_message
from bot.services import Services

PRACTICE_COMMAND = "/practice"


def register(app: App, services: Services) -> None:
    subcommands: dict[str, Callable[[Ack, dict, str], None]] = {
        "help": lambda ack, command, rest: ack(**help_message()),
    }

    @app.command(PRACTICE_COMMAND)
    def practice(ack: Ack, command: dict) -> None:
        name, rest = split_subcommand(command.get("text", ""))
        handler = subcommands.get(name)
        if handler is None:
            ack(**help_message(unknown_subcommand=name))
            return
        handler(ack, command, rest)


def split_subcommand(text: str) -> tuple[str, str]:
    """`"check  my draft"` → `("check", "my draft")`; empty text asks for help."""
    name, _, rest = text.strip().partition(" ")
    return (name.lower() or "help", rest.strip())
