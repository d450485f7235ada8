"""`/practice` and its subcommands: parse, ack, hand off.

Answers that need nothing but the database (help, the scenario list, your stats, a usage hint)
go in the ack itself; everything else is a job, answered later through the command's response
URL. Only the picker is opened here: its trigger expires three seconds after the command.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.critique import texts as critique_texts
from bot.blocks.help import help_message
from bot.blocks.practice import (
    DEFAULT_DIFFICULTY,
    picker_modal,
    scenario_list,
    stats_message,
)
from bot.blocks.practice import texts as practice_texts
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import Family
from bot.services import Services
from bot.slack.admin_commands import ADMIN_SUBCOMMANDS, AdminCommandAsked
from bot.slack.check_draft import DraftCheckAsked
from bot.slack.practice_end import PracticeEndAsked
from bot.slack.practice_start import PracticeStartAsked

PRACTICE_COMMAND = "/practice"
HERE = "here"  # `/practice <scenario> here`: practise in a thread of the current channel


@dataclass(frozen=True)
class Invocation:
    """One `/practice <subcommand> <rest>`."""

    ack: Ack
    command: dict[str, Any]
    rest: str
    client: WebClient
    context: BoltContext

    @property
    def team_id(self) -> str:
        return self.context.team_id

    @property
    def user_id(self) -> str:
        return self.command["user_id"]


Handler = Callable[[Services, Invocation], None]


def register(app: App, services: Services) -> None:
    @app.command(PRACTICE_COMMAND)
    def practice(ack: Ack, command: dict, client: WebClient, context: BoltContext) -> None:
        name, rest = split_subcommand(command.get("text", ""))
        handler = _handler(services, name)
        handler(services, Invocation(ack, command, rest, client, context))


def split_subcommand(text: str) -> tuple[str, str]:
    """`"check  my draft"` → `("check", "my draft")`; empty text starts a practice (the
    picker)."""
    name, _, rest = text.strip().partition(" ")
    return (name.lower() or "start", rest.strip())


def _handler(services: Services, name: str) -> Handler:
    if name in _SUBCOMMANDS:
        return _SUBCOMMANDS[name]
    if name in ADMIN_SUBCOMMANDS:
        return _admin
    if name in services.practice.scenarios.ids():
        return lambda services, call: _start_named(services, call, f"{name} {call.rest}")
    return lambda services, call: _unknown(services, call, name)


def _help(services: Services, call: Invocation) -> None:
    call.ack(**help_message())


def _unknown(services: Services, call: Invocation, name: str) -> None:
    """Anything else gets the help and a close match."""
    known = [*_SUBCOMMANDS, *ADMIN_SUBCOMMANDS, *services.practice.scenarios.ids()]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    call.ack(**help_message(unknown_subcommand=name, suggestion=close[0] if close else None))


def _list(services: Services, call: Invocation) -> None:
    call.ack(**scenario_list(services.practice.scenarios))


def _stats(services: Services, call: Invocation) -> None:
    call.ack(**stats_message(services.practice.stats(call.team_id, call.user_id)))


def _check(services: Services, call: Invocation) -> None:
    if not call.rest:
        call.ack(text=critique_texts()["check"]["usage"])
        return
    services.enqueue(
        DraftCheckAsked(
            team_id=call.team_id,
            user_id=call.user_id,
            draft=call.rest,
            response_url=call.command["response_url"],
            asked_at=time.time(),
            channel_id=call.command["channel_id"],
        )
    )
    call.ack()


def _start(services: Services, call: Invocation) -> None:
    """`/practice` alone opens the picker; with a scenario it starts at once."""
    if call.rest:
        _start_named(services, call, call.rest)
        return
    channel_id = call.command["channel_id"]
    library = services.practice.scenarios
    families = [family for family in Family if library.of_family(family)]
    view = picker_modal(families, channel_id, offer_channel=channel_id.startswith("C"))
    call.client.views_open(trigger_id=call.command["trigger_id"], view=view)
    call.ack()


def _start_named(services: Services, call: Invocation, words: str) -> None:
    """`<scenario> [mild|upset|furious] [here]`."""
    scenario_id, *options = words.lower().split()
    levels = [word for word in options if word != HERE]
    if levels and levels[0] not in Difficulty.__members__:
        requested = levels[0][:40]
        call.ack(text=practice_texts()["unknown_difficulty"].format(requested=requested))
        return
    services.enqueue(
        PracticeStartAsked(
            team_id=call.team_id,
            user_id=call.user_id,
            scenario_id=scenario_id,
            difficulty=(Difficulty(levels[0]) if levels else DEFAULT_DIFFICULTY).value,
            channel_id=call.command["channel_id"],
            in_channel=HERE in options,
            response_url=call.command["response_url"],
        )
    )
    call.ack()


def _end(services: Services, call: Invocation) -> None:
    services.enqueue(
        PracticeEndAsked(
            team_id=call.team_id,
            user_id=call.user_id,
            response_url=call.command["response_url"],
        )
    )
    call.ack()


def _admin(services: Services, call: Invocation) -> None:
    name, _ = split_subcommand(call.command.get("text", ""))
    services.enqueue(
        AdminCommandAsked(
            team_id=call.team_id,
            user_id=call.user_id,
            channel_id=call.command["channel_id"],
            subcommand=name,
            rest=call.rest,
            response_url=call.command["response_url"],
            bot_user_id=call.context.bot_user_id,
            bot_id=call.context.bot_id,
        )
    )
    call.ack()


_SUBCOMMANDS: dict[str, Handler] = {
    "help": _help,
    "start": _start,
    "list": _list,
    "stats": _stats,
    "end": _end,
    "check": _check,
}
