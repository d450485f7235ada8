"""Use case: an admin resolves a dispute from the Home tab's Agree or Disagree form.

Agreed corrects the critique's scores and keeps the levels as a calibration label; disagreed
keeps them. Either way the person who disputed is told in a DM (once, even when the job is
retried), and the admin's Home tab is published again with the dispute among the resolved ones.
Only admins may resolve; a dispute another admin resolved first stays as they left it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.disputes import already_resolved_text, notice_text, outcome_message
from bot.coaching.disputes import Levels, agree, disagree, mark_told
from bot.jobs.job import Job
from bot.services import Services
from bot.slack.admins import admin_user
from bot.slack.errors import is_transient, slack_reason
from bot.slack.home import HomeOpened, publish_home
from bot.store.models import DisputeResolution

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DisputeResolutionAsked(Job):
    """`labels` (the levels the admin set) when they agreed, `reason` when they disagreed."""

    task: ClassVar[str] = "resolve_dispute"

    team_id: str
    user_id: str  # the admin who submitted the form
    dispute_id: int
    labels: dict[str, int] | None = None
    reason: str | None = None

    def lock(self) -> str:
        return f"dispute:{self.team_id}:{self.dispute_id}"


def resolve_dispute(services: Services, asked: DisputeResolutionAsked) -> None:
    client = services.slack(asked.team_id)
    if admin_user(services.db, client, asked.team_id, asked.user_id) is None:
        _tell_admin(client, asked, notice_text("not_admin"))
        return
    if asked.labels is not None:
        wanted = DisputeResolution.agreed
        dispute = agree(
            services.db, asked.team_id, asked.dispute_id, asked.user_id, Levels(**asked.labels)
        )
    else:
        wanted = DisputeResolution.disagreed
        dispute = disagree(
            services.db, asked.team_id, asked.dispute_id, asked.user_id, asked.reason or ""
        )
    if dispute is None:
        _tell_admin(client, asked, notice_text("gone"))
        return
    if (dispute.resolution, dispute.resolved_by) != (wanted, asked.user_id):
        _tell_admin(client, asked, already_resolved_text(dispute))
    elif not dispute.told:  # a retried job has told them already
        _tell(client, dispute.user_id, outcome_message(dispute))
        mark_told(services.db, asked.team_id, dispute.id)
    publish_home(services, HomeOpened(team_id=asked.team_id, user_id=asked.user_id))


def _tell_admin(client: WebClient, asked: DisputeResolutionAsked, text: str) -> None:
    """The Home tab has no conversation to answer in: the app's DM with the admin."""
    _tell(client, asked.user_id, {"text": text})


def _tell(client: WebClient, user_id: str, message: dict) -> None:
    """A DM; a person Slack will not let the bot write to (deactivated, say) is logged."""
    try:
        client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        if is_transient(error):
            raise
        logger.info("could not tell %s about a dispute: %s", user_id, slack_reason(error))
