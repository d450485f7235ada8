"""Use case: send the daily reminders that are due. The scheduler enqueues the tick every
minute; the tick queues one sender job per workspace with reminders to send, so that one
workspace's posts go out one after another (its rate limit is Slack's to set) while different
workspaces' go out at once on the worker's job threads. A sender that Slack asks to wait queues
itself again for when Slack allows it. The Slack side posts each `Digest` and turns Slack's
errors into the outcomes `bot.reminders.delivery` understands (which database claims keep to
once per schedule and day, whichever worker runs a job, and however often)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.reminder import reminder_message
from bot.jobs.job import Job
from bot.jobs.queue import JobQueue
from bot.reminders.claims import ClaimedDelivery
from bot.reminders.delivery import (
    ChannelGone,
    RateLimited,
    default_worker_id,
    record_due_reminders,
    send_workspace_reminders,
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
# Each reminder carries its delivery in its message metadata, so that a sender taking over from
# one that crashed mid-post can tell whether Slack already has it.
METADATA_EVENT = "asap_coach_reminder"
# Messages since the reminder was due looked through for it: a lease runs out within minutes.
HISTORY_LOOKED_AT = 200


@dataclass(frozen=True, kw_only=True)
class RemindersDue(Job):
    task: ClassVar[str] = "send_due_reminders"


@dataclass(frozen=True, kw_only=True)
class WorkspaceRemindersDue(Job):
    """Send one workspace's due reminders."""

    task: ClassVar[str] = "send_workspace_reminders"

    team_id: str

    def lock(self) -> str:
        return f"reminders:{self.team_id}"


def send_due_reminders(services: Services, due: RemindersDue) -> None:
    teams = record_due_reminders(services.db, utcnow, services.settings)
    queued = sum(queue_sender(services.jobs, WorkspaceRemindersDue(team_id=t)) for t in teams)
    if teams:
        logger.info("reminder tick: %d workspaces to send, %d senders queued", len(teams), queued)


def queue_sender(jobs: JobQueue, sender: WorkspaceRemindersDue, wait: float = 0.0) -> bool:
    """False when the workspace's sender is already waiting: that one sends what is due."""
    return jobs.enqueue(sender, queueing_lock=sender.lock(), delay=wait)


def send_one_workspace(services: Services, due: WorkspaceRemindersDue) -> None:
    poster = reminder_poster(services.settings, services.db)
    run = send_workspace_reminders(
        services.db,
        poster,
        utcnow,
        services.settings,
        team_id=due.team_id,
        worker_id=default_worker_id(),
    )
    if run.retry_after is not None:
        # Queued again, not retried: jobs under a queueing lock are never retried (see
        # `bot.jobs.retry`).
        queue_sender(services.jobs, due, wait=run.retry_after)
    logger.debug("reminders of %s: %s", due.team_id, dict(run.outcomes))


class SlackReminderPoster:
    """A `ReminderPoster` over the Web API."""

    def __init__(self, client_for_team: ClientForTeam) -> None:
        # A sender posts to one workspace: its token is looked up and decrypted once.
        self._client_for_team = functools.cache(client_for_team)

    def post(self, claim: ClaimedDelivery, digest: Digest) -> str:
        client = self._client(claim.team_id)
        try:
            response = client.chat_postMessage(
                channel=claim.channel_id,
                metadata={"event_type": METADATA_EVENT, "event_payload": _payload(claim)},
                **reminder_message(digest),
            )
        except SlackApiError as error:
            raise _delivery_error(error) from error
        return response["ts"]

    def find_posted(self, claim: ClaimedDelivery) -> str | None:
        client = self._client(claim.team_id)
        try:
            response = client.conversations_history(
                channel=claim.channel_id,
                oldest=str(claim.due_at.timestamp()),
                include_all_metadata=True,
                limit=HISTORY_LOOKED_AT,
            )
        except SlackApiError as error:
            raise _delivery_error(error) from error
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (
                metadata.get("event_payload") == _payload(claim)
            ):
                return message["ts"]
        return None

    def _client(self, team_id: str) -> WebClient:
        try:
            return self._client_for_team(team_id)
        except NotInstalled as error:
            raise ChannelGone(GONE_REASONS["account_inactive"]) from error


def _payload(claim: ClaimedDelivery) -> dict[str, int]:
    return {"delivery_id": claim.delivery_id}


def reminder_poster(settings: Settings, db: Database) -> SlackReminderPoster:
    return SlackReminderPoster(clients_by_team(settings, db))


def _delivery_error(error: SlackApiError) -> Exception:
    if error.response.status_code == 429:
        return RateLimited(retry_after(error) or DEFAULT_RETRY_AFTER)
    code = error.response.get("error")
    if code in GONE_REASONS:
        return ChannelGone(GONE_REASONS[code])
    return error
