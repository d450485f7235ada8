"""Global middleware for Slack's delivery contract: a retried event is answered, not re-handled."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltResponse

from bot.metrics import DUPLICATE_DELIVERIES
from bot.services import Services
from bot.store.events import claim_event

logger = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.middleware
    def drop_retried_events(body: dict, next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id is not None:
            with services.db.session() as session:
                first_delivery = claim_event(session, body.get("team_id", ""), event_id)
            if not first_delivery:
                # Slack resends when our first answer was late or failed. The first delivery is
                # (being) handled, so a 200 here stops the retries without a second reply.
                DUPLICATE_DELIVERIES.inc()
                logger.info("dropped a repeated delivery of event %s", event_id)
                return BoltResponse(status=200, body="")
        next()
        return None
