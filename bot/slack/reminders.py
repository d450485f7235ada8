"""The Slack side of the reminder tick: posts a `Digest` and turns Slack's errors into the
outcomes `bot.reminders.delivery` understands."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from bot.blocks.reminder import reminder_message
from bot.reminders.delivery import ChannelGone, RateLimited
from bot.reminders.digest import Digest
from bot.settings import Settings
from bot.slack.clients import ClientForTeam, NotInstalled, clients_by_team
from bot.store.db import Database

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
        return RateLimited(_retry_after(error.response.headers))
    code = error.response.get("error")
    if code in GONE_REASONS:
        return ChannelGone(GONE_REASONS[code])
    return error


def _retry_after(headers: Mapping[str, object]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            # urllib hands slack_sdk each header as a list of values.
            first = value[0] if isinstance(value, list) else value
            return float(first)
    return DEFAULT_RETRY_AFTER
