"""Message shortcuts: "Critique with ASAP" shows the critique of a message in a modal."""

from __future__ import annotations

import time

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.critique import working_modal
from bot.services import Services
from bot.slack.critique_message import CritiqueAsked

CRITIQUE_SHORTCUT = "critique_message"


def register(app: App, services: Services) -> None:
    @app.message_shortcut(CRITIQUE_SHORTCUT)
    def critique_message(ack: Ack, shortcut: dict, client: WebClient, context: BoltContext) -> None:
        # The trigger expires three seconds after the click: open the modal now, and let the
        # job fill it in.
        opened = client.views_open(trigger_id=shortcut["trigger_id"], view=working_modal())
        services.enqueue(
            CritiqueAsked(
                team_id=context.team_id,
                channel_id=shortcut["channel"]["id"],
                message_ts=shortcut["message_ts"],
                requester=shortcut["user"]["id"],
                bot_user_id=context.bot_user_id,
                source="shortcut",
                asked_at=time.time(),
                view_id=opened["view"]["id"],
            )
        )
        ack()
