"""Use case: send the daily reminders that are due. The scheduler enqueues the tick every
minute; the Slack side posts each `Digest` and turns Slack's errors into the outcomes
`bot.reminders.delivery` understands (which database claims keep to once per schedule and day,
whichever worker runs the tick)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.errors import SlackApiError

from bot.blocks.reminder import reminder_message
from bot.jobs.job import Job
from bot.reminders.delivery import (
    ChannelGone,
    RateLimited,
    default_worker_id,
    run_due_reminders,
)
from bot.reminders.digest import Digest
from bot.services import Services
from bot.settings import Settings
from bot.slack.clients import ClientForTeam, NotInstalled, clients_by_team
from bot.slack.errors import retry_after
from bot.store.base import utcnow
from bot.store.db import Database

logger = logging.getLogger(__name__)

# Slack errors after which the reminder can never be posted: the schedule is paused with the
# reason, which the admin sees on the Home tab.
GONE_REASONS = {
    "is_archived": "channel archived",
    "channel_not_found": "channel not found",
    "not_in_channel": "the bot was removed from the channel",
    "account_inactive": "the app was uninstalled",
    "token_revoked": "the app was uninstalled",
    "invalid_auth": "the app was uninstalled",
}
DEFAULT_RETRY_AFTER = 1.0


@dataclass(frozen=True, kw_only=True)
class RemindersDue(Job):
    task: ClassVar[str] = "send_due_reminders"


def send_due_reminders(services: Services, due: RemindersDue) -> None:
    poster = reminder_poster(services.settings, services.db)
    outcomes = run_due_reminders(
        services.db, poster, utcnow, services.settings, worker_id=default_worker_id()
    )
    if outcomes:
        logger.info("reminder tick: %s", dict(outcomes))


class SlackReminderPoster:
    """A `ReminderPoster` over the Web API."""

    def __init__(self, client_for_team: ClientForTeam) -> None:
        self._client_for_team = client_for_team

    def post(self, team_id: str, channel_id: str, digest: Digest) -> str:
        try:
            client = self._client_for_team(team_id)
        except NotInstalled as error:
            raise ChannelGone(GONE_REASONS["account_inactive"]) from error
        try:
            response = client.chat_postMessage(channel=channel_id, **reminder_message(digest))
        except SlackApiError as error:
            raise _delivery_error(error) from error
        return response["ts"]


def reminder_poster(settings: Settings, db: Database) -> SlackReminderPoster:
    return SlackReminderPoster(clients_by_team(settings, db))


def _delivery_error(error: SlackApiError) -> Exception:
    if error.response.status_code == 429:
        return RateLimited(retry_after(error) or DEFAULT_RETRY_AFTER)
    code = error.response.get("error")
    if code in GONE_REASONS:
        return ChannelGone(GONE_REASONS[code])
    return error
