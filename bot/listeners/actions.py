"""Buttons: under a critique (practise, rate, dispute), under a practice message (End, Try
again), Practise now (the daily reminder, the Home tab), and Agree or Disagree under a dispute
on an admin's Home tab. Parse, ack, record, hand off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.critique import (
    DISPUTE_ACTION,
    NOT_USEFUL_ACTION,
    PRACTISE_ACTION,
    USEFUL_ACTION,
    dispute_modal,
    notice_modal,
    texts,
)
from bot.blocks.disputes import (
    AGREE_ACTION,
    DISAGREE_ACTION,
    agree_modal,
    already_resolved_text,
    disagree_modal,
    notice_text,
)
from bot.blocks.practice import END_ACTION, TRY_AGAIN_ACTION
from bot.blocks.reminder import PRACTISE_NOW_ACTION
from bot.coaching.disputes import Dispute, find_dispute
from bot.coaching.reviews import record_rating
from bot.prompt_files import read_toml
from bot.reminders.digest import load_texts
from bot.services import Services
from bot.slack.notices import Notice
from bot.slack.practice_end import PracticeEndAsked
from bot.slack.practice_start import PracticeStartAsked
from bot.store.models import FeedbackKind


def register(app: App, services: Services) -> None:
    @app.action(PRACTISE_ACTION)
    def point_to_practice(ack: Ack, body: dict, client: WebClient) -> None:
        answer(services, body, client, texts()["answers"]["practise"])
        ack()

    def rate(body: dict, client: WebClient, kind: FeedbackKind) -> None:
        critique_id, user = int(body["actions"][0]["value"]), body["user"]["id"]
        recorded = record_rating(services.db, body["team"]["id"], critique_id, user, kind)
        said = texts()["answers"]["thanks" if recorded else "already_rated"]
        answer(services, body, client, said)

    @app.action(USEFUL_ACTION)
    def rate_useful(ack: Ack, body: dict, client: WebClient) -> None:
        rate(body, client, FeedbackKind.useful)
        ack()

    @app.action(NOT_USEFUL_ACTION)
    def rate_not_useful(ack: Ack, body: dict, client: WebClient) -> None:
        rate(body, client, FeedbackKind.not_useful)
        ack()

    @app.action(DISPUTE_ACTION)
    def open_dispute_form(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        # The trigger expires three seconds after the click: open the form now.
        view = dispute_modal(int(action["value"]))
        if _in_modal(body):
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        ack()

    # "Practise now" in the daily reminder, and the weakest step's button on the Home tab.
    @app.action(PRACTISE_NOW_ACTION)
    def point_to_practice_now(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        text = practise_hint(action.get("value"))
        if body.get("view", {}).get("type") == "home":
            # The Home tab has no conversation to answer in: the app's DM with the person.
            team_id, user_id = body["team"]["id"], body["user"]["id"]
            services.enqueue(Notice(team_id=team_id, channel_id=user_id, message={"text": text}))
        else:
            answer(services, body, client, text)
        ack()

    def open_resolution_form(
        body: dict, action: dict, client: WebClient, form: Callable[[Dispute], dict]
    ) -> None:
        # The trigger expires three seconds after the click: the form opens now, with the
        # dispute as it stands (another admin may have resolved it since the tab was drawn).
        dispute = find_dispute(services.db, body["team"]["id"], int(action["value"]))
        if dispute is None:
            view = notice_modal(notice_text("gone"))
        elif dispute.resolution is not None:
            view = notice_modal(already_resolved_text(dispute))
        else:
            view = form(dispute)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(AGREE_ACTION)
    def open_agree_form(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        open_resolution_form(body, action, client, agree_modal)
        ack()

    @app.action(DISAGREE_ACTION)
    def open_disagree_form(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        open_resolution_form(body, action, client, disagree_modal)
        ack()

    @app.action(END_ACTION)
    def end_clicked(ack: Ack, body: dict, action: dict) -> None:
        services.enqueue(
            PracticeEndAsked(
                team_id=body["team"]["id"],
                user_id=body["user"]["id"],
                response_url=body["response_url"],
                session_id=int(action["value"]),
            )
        )
        ack()

    @app.action(TRY_AGAIN_ACTION)
    def try_again(ack: Ack, body: dict, action: dict) -> None:
        scenario_id, difficulty = action["value"].split()
        channel_id = body["channel"]["id"]  # where the scorecard is: the same DM or channel
        services.enqueue(
            PracticeStartAsked(
                team_id=body["team"]["id"],
                user_id=body["user"]["id"],
                scenario_id=scenario_id,
                difficulty=difficulty,
                channel_id=channel_id,
                in_channel=channel_id.startswith("C"),
                response_url=body["response_url"],
            )
        )
        ack()


def answer(services: Services, body: dict[str, Any], client: WebClient, text: str) -> None:
    """A short answer to whoever clicked: an ephemeral under a message (a job, through the
    response URL), a small modal on top of a modal (which has no channel to post in; its
    trigger expires in three seconds, so it is pushed now)."""
    if _in_modal(body):
        client.views_push(trigger_id=body["trigger_id"], view=notice_modal(text))
    else:
        services.enqueue(
            Notice(
                team_id=body["team"]["id"],
                response_url=body["response_url"],
                message={"text": text},
            )
        )


def practise_hint(step: str | None) -> str:
    """Where to practise, naming the step to work on when the button carries one."""
    texts = read_toml("slack", "home.toml")
    steps = load_texts().steps
    focus = texts["practise_focus"].format(step=steps[step]) if step in steps else ""
    return texts["practise_now"] + focus


def _in_modal(body: dict[str, Any]) -> bool:
    return body.get("container", {}).get("type") == "view"
