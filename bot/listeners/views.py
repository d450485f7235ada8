"""Modal submissions: the practice picker, the dispute form under a critique, and an admin's
Agree or Disagree form under a dispute on the Home tab."""

from __future__ import annotations

from dataclasses import asdict

from slack_bolt import Ack, App, BoltContext

from bot.blocks.critique import (
    DISPUTE_BLOCK,
    DISPUTE_CALLBACK,
    DISPUTE_INPUT,
    notice_modal,
    texts,
)
from bot.blocks.disputes import (
    AGREE_CALLBACK,
    DISAGREE_CALLBACK,
    agreed_levels,
    disagree_reason,
    reason_missing_errors,
)
from bot.blocks.practice import PICKER_CALLBACK, picker_choice
from bot.coaching.reviews import record_dispute
from bot.services import Services
from bot.slack.disputes import DisputeResolutionAsked
from bot.slack.practice_start import PracticeStartAsked


def register(app: App, services: Services) -> None:
    @app.view(PICKER_CALLBACK)
    def start_picked(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
        choice = picker_choice(view)
        services.enqueue(
            PracticeStartAsked(
                team_id=context.team_id,
                user_id=body["user"]["id"],
                family=choice.family.value,
                difficulty=choice.difficulty.value,
                channel_id=choice.channel_id,
                in_channel=choice.in_channel,
            )
        )
        ack()

    @app.view(DISPUTE_CALLBACK)
    def store_dispute(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
        comment = view["state"]["values"][DISPUTE_BLOCK][DISPUTE_INPUT].get("value") or ""
        critique_id = int(view["private_metadata"])
        stored = record_dispute(
            services.db, context.team_id, critique_id, body["user"]["id"], comment
        )
        answer = texts()["answers"]["dispute_stored" if stored else "gone"]
        ack(response_action="update", view=notice_modal(answer))

    # The form closes at once; the job resolves it, tells the disputer, and publishes the
    # admin's Home tab again with the dispute among the resolved ones.
    @app.view(AGREE_CALLBACK)
    def agree_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
        services.enqueue(
            DisputeResolutionAsked(
                team_id=context.team_id,
                user_id=body["user"]["id"],
                dispute_id=int(view["private_metadata"]),
                labels=asdict(agreed_levels(view)),
            )
        )
        ack()

    @app.view(DISAGREE_CALLBACK)
    def disagree_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
        reason = disagree_reason(view)
        if not reason:
            ack(response_action="errors", errors=reason_missing_errors())
            return
        services.enqueue(
            DisputeResolutionAsked(
                team_id=context.team_id,
                user_id=body["user"]["id"],
                dispute_id=int(view["private_metadata"]),
                reason=reason,
            )
        )
        ack()
