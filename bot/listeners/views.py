"""Modal submissions: the dispute form under a critique."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.blocks.critique import (
    DISPUTE_BLOCK,
    DISPUTE_CALLBACK,
    DISPUTE_INPUT,
    notice_modal,
    texts,
)
from bot.coaching.reviews import record_dispute
from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.view(DISPUTE_CALLBACK)
    def store_dispute(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
        comment = view["state"]["values"][DISPUTE_BLOCK][DISPUTE_INPUT].get("value") or ""
        critique_id = int(view["private_metadata"])
        stored = record_dispute(
            services.db, context.team_id, critique_id, body["user"]["id"], comment
        )
        answer = texts()["answers"]["dispute_stored" if stored else "gone"]
        ack(response_action="update", view=notice_modal(answer))
