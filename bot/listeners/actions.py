"""The buttons under a critique: practise, rate it, or dispute it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
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
from bot.blocks.reminder import PRACTISE_NOW_ACTION
from bot.coaching.reviews import record_rating
from bot.prompt_files import read_toml
from bot.reminders.digest import load_texts
from bot.services import Services
from bot.store.models import FeedbackKind


def register(app: App, services: Services) -> None:
    @app.action(PRACTISE_ACTION)
    def point_to_practice(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        answer(body, client, respond, texts()["answers"]["practise"])

    def rate(body: dict, client: WebClient, respond: Respond, kind: FeedbackKind) -> None:
        critique_id, user = int(body["actions"][0]["value"]), body["user"]["id"]
        team_id = body["team"]["id"]
        recorded = record_rating(services.db, team_id, critique_id, user, kind)
        answer(body, client, respond, texts()["answers"]["thanks" if recorded else "already_rated"])

    # "Practise now" in the daily reminder, and the weakest step's button on the Home tab.
    @app.action(PRACTISE_NOW_ACTION)
    def point_to_practice_now(
        ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
    ) -> None:
        ack()
        text = practise_hint(action.get("value"))
        if body.get("view", {}).get("type") == "home":
            # The Home tab has no conversation to answer in: the app's DM with the person.
            client.chat_postMessage(channel=body["user"]["id"], text=text)
        else:
            answer(body, client, respond, text)

    @app.action(USEFUL_ACTION)
    def rate_useful(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        rate(body, client, respond, FeedbackKind.useful)

    @app.action(NOT_USEFUL_ACTION)
    def rate_not_useful(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        rate(body, client, respond, FeedbackKind.not_useful)

    @app.action(DISPUTE_ACTION)
    def open_dispute_form(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        view = dispute_modal(int(action["value"]))
        if _in_modal(body):
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)


def answer(body: dict[str, Any], client: WebClient, respond: Respond, text: str) -> None:
    """A short answer to whoever clicked: an ephemeral under a message, a small modal on top of
    a modal (which has no channel to post in)."""
    if _in_modal(body):
        client.views_push(trigger_id=body["trigger_id"], view=notice_modal(text))
    else:
        respond(text=text, response_type="ephemeral", replace_original=False)


def practise_hint(step: str | None) -> str:
    """Where to practise, naming the step to work on when the button carries one."""
    texts = read_toml("slack", "home.toml")
    steps = load_texts().steps
    focus = texts["practise_focus"].format(step=steps[step]) if step in steps else ""
    return texts["practise_now"] + focus


def _in_modal(body: dict[str, Any]) -> bool:
    return body.get("container", {}).get("type") == "view"
