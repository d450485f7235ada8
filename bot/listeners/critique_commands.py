"""The critique subcommands of `/practice`: `check <draft>` for anyone, `delivery dm|thread` for
admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.blocks.critique import draft_check_message, texts
from bot.coaching.reviews import check_draft, set_critique_delivery
from bot.listeners.admins import is_admin, slack_user
from bot.services import Services
from bot.store.models import CritiqueDelivery

if TYPE_CHECKING:
    from bot.listeners.commands import Invocation


def subcommands(services: Services) -> dict[str, Callable[[Invocation], None]]:
    def check(call: Invocation) -> None:
        if not call.rest:
            call.ack(text=texts()["check"]["usage"])
            return
        call.ack()  # the engine may take longer than Slack's 3 s
        call.respond(**draft_check_message(check_draft(services.critique_engine, call.rest)))

    def delivery(call: Invocation) -> None:
        t = texts()["delivery"]
        choice = call.rest.lower()
        if choice not in {mode.value for mode in CritiqueDelivery}:
            call.ack(text=t["usage"])
            return
        call.ack()
        user = slack_user(call.client, call.command["user_id"])
        if not is_admin(services.db, call.context.team_id, user):
            call.respond(text=t["not_admin"])
            return
        channel = call.command["channel_id"]
        set_critique_delivery(services.db, call.context.team_id, channel, CritiqueDelivery(choice))
        call.respond(text=t[f"set_{choice}"].format(channel=channel))

    return {"check": check, "delivery": delivery}
