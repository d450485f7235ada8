"""The critique subcommands of `/practice`: `check <draft>` for anyone, `delivery dm|thread` for
admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.blocks.critique import draft_check_message, texts
from bot.coaching.reviews import check_draft, set_critique_delivery
from bot.services import Services
from bot.slack.admins import for_admins
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

    def set_delivery(call: Invocation, user: dict[str, Any]) -> str:
        choice = CritiqueDelivery(call.rest.lower())
        channel = call.command["channel_id"]
        set_critique_delivery(services.db, call.context.team_id, channel, choice)
        return texts()["delivery"][f"set_{choice.value}"].format(channel=channel)

    set_for_admins = for_admins(services, set_delivery, texts()["delivery"]["not_admin"])

    def delivery(call: Invocation) -> None:
        if call.rest.lower() not in {mode.value for mode in CritiqueDelivery}:
            call.ack(text=texts()["delivery"]["usage"])
            return
        set_for_admins(call)

    return {"check": check, "delivery": delivery}
