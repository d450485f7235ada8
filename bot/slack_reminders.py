"""The Slack side of the reminder tick: posts a `Digest` and turns Slack's errors into the
outcomes `bot.reminders.delivery` understands."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import slack_client, token_cipher
from bot.blocks.reminder import reminder_message
from bot.reminders.delivery import ChannelGone, RateLimited
from bot.reminders.digest import Digest
from bot.settings import Settings
from bot.store.db import Database
from bot.store.installations import EncryptedInstallationStore

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

ClientForTeam = Callable[[str], WebClient]


class SlackReminderPoster:
    """A `ReminderPoster` over the Web API."""

    def __init__(self, client_for_team: ClientForTeam) -> None:
        self._client_for_team = client_for_team

    def post(self, team_id: str, channel_id: str, digest: Digest) -> str:
        client = self._client_for_team(team_id)
        try:
            response = client.chat_postMessage(channel=channel_id, **reminder_message(digest))
        except SlackApiError as error:
            raise _delivery_error(error) from error
        return response["ts"]


def reminder_poster(settings: Settings, db: Database) -> SlackReminderPoster:
    return SlackReminderPoster(clients_by_team(settings, db))


def clients_by_team(settings: Settings, db: Database) -> ClientForTeam:
    """One client for a single-workspace install; per team from the installation store with
    OAuth (non-enterprise installs: the store is asked by team id only)."""
    if not settings.oauth_enabled:
        client = slack_client(settings, retry_rate_limits=False)
        return lambda team_id: client
    store = EncryptedInstallationStore(settings.slack_client_id, db.engine, token_cipher(settings))

    def client_for(team_id: str) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise ChannelGone(GONE_REASONS["account_inactive"])
        return WebClient(token=bot.bot_token, base_url=settings.slack_api_url)

    return client_for


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
