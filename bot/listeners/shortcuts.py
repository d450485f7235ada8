"""Message shortcuts: "Critique with ASAP" shows the critique of a message in a modal."""

from __future__ import annotations

import time

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.critique import notice_modal, working_modal
from bot.jobs.job import QueueUnavailable
from bot.prompt_files import read_toml
from bot.services import Services
from bot.slack.critique_message import CritiqueAsked

CRITIQUE_SHORTCUT = "critique_message"


def register(app: App, services: Services) -> None:
    @app.message_shortcut(CRITIQUE_SHORTCUT)
    def critique_message(ack: Ack, shortcut: dict, client: WebClient, context: BoltContext) -> None:
        # The trigger expires three seconds after the click: open the modal now, and let the
        # job fill it in.
        opened = client.views_open(trigger_id=shortcut["trigger_id"], view=working_modal())
        view_id = opened["view"]["id"]
        asked = CritiqueAsked(
            team_id=context.team_id,
            channel_id=shortcut["channel"]["id"],
            message_ts=shortcut["message_ts"],
            requester=shortcut["user"]["id"],
            bot_user_id=context.bot_user_id,
            source="shortcut",
            asked_at=time.time(),
            view_id=view_id,
        )
        try:
            services.enqueue(asked)
        except QueueUnavailable:
            # No job will ever fill the modal in: say so in it, rather than leave it working.
            sorry = read_toml("slack", "help.toml")["try_again"]
            client.views_update(view_id=view_id, view=notice_modal(sorry))
        ack()
