"""Message shortcuts: "Critique with ASAP" shows the critique of a message in a modal."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.critique import working_modal
from bot.services import Services
from bot.slack.reviewing import critique_in_modal

CRITIQUE_SHORTCUT = "critique_message"


def register(app: App, services: Services) -> None:
    @app.message_shortcut(CRITIQUE_SHORTCUT)
    def critique_message(ack: Ack, shortcut: dict, client: WebClient, context: BoltContext) -> None:
        ack()
        # The trigger expires after 3 s: open the modal before the (possibly slow) critique.
        opened = client.views_open(trigger_id=shortcut["trigger_id"], view=working_modal())
        critique_in_modal(services, client, context, shortcut, opened["view"]["id"])
