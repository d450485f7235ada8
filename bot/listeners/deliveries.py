"""Slack's delivery contract, for every request: a retried event is answered, not re-handled;
a request we could not take (the database or the queue unreachable) gets a friendly answer, and
an event is left for Slack to retry."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.blocks.critique import notice_modal
from bot.logs import bind_request_ids
from bot.metrics import DUPLICATE_DELIVERIES, SLACK_EVENTS
from bot.prompt_files import read_toml
from bot.services import Services
from bot.store.events import claim_event, release_event

logger = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.middleware
    def bind_ids_to_logs(body: dict, next: Callable[[], None]) -> None:
        # Listeners run in the request's thread (process_before_response): the ids stay bound
        # until the thread takes the next request, which binds its own.
        bind_request_ids(
            team_id=body.get("team_id") or (body.get("team") or {}).get("id"),
            channel_id=(body.get("event") or {}).get("channel") or body.get("channel_id"),
            event_id=body.get("event_id"),
        )
        next()

    @app.middleware
    def drop_retried_events(body: dict, next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id is not None:
            SLACK_EVENTS.labels(type=body.get("event", {}).get("type", "unknown")).inc()
            with services.db.session() as session:
                first_delivery = claim_event(session, body.get("team_id", ""), event_id)
            if not first_delivery:
                # Slack resends when our first answer was late or failed. The first delivery
                # was handled (its work is in the queue), so a 200 stops the retries.
                DUPLICATE_DELIVERIES.inc()
                logger.info("dropped a repeated delivery of event %s", event_id)
                return BoltResponse(status=200, body="")
        next()
        return None

    @app.error
    def answer_failures(error: Exception, body: dict) -> BoltResponse:
        # The type only: an exception's text may quote the message being handled.
        logger.warning("could not take a Slack request: %s", type(error).__name__)
        logger.debug("the request that failed", exc_info=error)
        return _failure_answer(services, body)


def _failure_answer(services: Services, body: dict[str, Any]) -> BoltResponse:
    sorry = read_toml("slack", "help.toml")["try_again"]
    if body.get("event_id") is not None:
        _forget_event(services, body)  # so that Slack's retry is handled, not dropped
        return BoltResponse(status=500, body="")
    if body.get("command"):
        return _json({"response_type": "ephemeral", "text": sorry})
    if body.get("type") == "view_submission":
        return _json({"response_action": "update", "view": notice_modal(sorry)})
    # A button: Slack shows the person that the app failed; nothing else can be said here.
    return BoltResponse(status=500, body="")


def _forget_event(services: Services, body: dict[str, Any]) -> None:
    try:
        with services.db.session() as session:
            release_event(session, body.get("team_id", ""), body["event_id"])
    except Exception as error:  # the database being down is the likely reason we are here
        logger.warning("could not forget event %s: %s", body["event_id"], type(error).__name__)


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
    )
