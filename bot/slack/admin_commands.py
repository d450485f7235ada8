"""Use case: an admin subcommand of `/practice` (watch and backfill a channel, unwatch, set the
team, set or stop a reminder, choose where critiques go, keep critiqued text or not), answered
through the command's response URL. Only admins may use them; anyone else is told so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.critique import texts as critique_texts
from bot.blocks.schedule import schedule_description
from bot.blocks.text import escape
from bot.jobs.job import Job
from bot.prompt_files import read_toml
from bot.reminders.schedule import InvalidSchedule, ReminderTiming, parse_schedule
from bot.services import Services
from bot.slack.admins import admin_user, slack_trouble
from bot.slack.channel_messages import BACKFILL_DAYS, Source, backfill
from bot.slack.errors import is_transient, slack_reason
from bot.slack.notices import respond
from bot.store.base import utcnow
from bot.store.models import CritiqueDelivery
from bot.store.workspaces import (
    remove_schedule,
    set_critique_delivery,
    set_schedule,
    set_store_reply_text,
    set_team,
    unwatch_channel,
    watch_channel,
)

logger = logging.getLogger(__name__)

# Slack escapes mentions in command text: <#C123|support>, <@U123|ana>, <!subteam^S123|@team>.
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
GROUP_MENTION = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
QUIET_SKIP = "quiet-skip"


@dataclass(frozen=True, kw_only=True)
class AdminCommandAsked(Job):
    """`/practice <subcommand> <rest>` typed in `channel_id`; the bot's ids tell its own
    messages apart in a backfill."""

    task: ClassVar[str] = "admin_command"

    team_id: str
    user_id: str
    channel_id: str
    subcommand: str
    rest: str
    response_url: str
    bot_user_id: str | None
    bot_id: str | None


Handler = Callable[[Services, WebClient, AdminCommandAsked, dict[str, Any]], str]


def run_admin_command(services: Services, asked: AdminCommandAsked) -> None:
    client = services.slack(asked.team_id)
    try:
        user = admin_user(services.db, client, asked.team_id, asked.user_id)
        if user is None:
            answer = _refusal(asked.subcommand)
        else:
            answer = _HANDLERS[asked.subcommand](services, client, asked, user)
    except SlackApiError as error:
        if is_transient(error):
            raise  # retried later from the queue
        logger.warning("admin subcommand: Slack refused: %s", slack_reason(error))
        answer = slack_trouble(error)
    respond(asked.response_url, {"text": answer})


def tell_admin_command_failed(
    services: Services, asked: AdminCommandAsked, error: Exception
) -> None:
    """What kept failing, in plain words: Slack's refusal, or a generic apology."""
    if not isinstance(error, SlackApiError):
        answer = _texts()["failed"]
    elif asked.subcommand == "watch":
        channel_id, _ = _mentioned_channel(asked.rest)
        answer = _texts()["backfill_failed"].format(
            channel=channel_id, days=BACKFILL_DAYS, problem=slack_trouble(error)
        )
    else:
        answer = slack_trouble(error)
    respond(asked.response_url, {"text": answer})


def _texts() -> dict[str, Any]:
    return read_toml("slack", "watching.toml")


def _refusal(subcommand: str) -> str:
    if subcommand == "delivery":
        return critique_texts()["delivery"]["not_admin"]
    return _texts()["not_admin"]


def _mentioned_channel(text: str) -> tuple[str | None, str]:
    """The first channel mentioned, and the text without it."""
    match = CHANNEL_MENTION.search(text)
    if match is None:
        return None, text
    return match.group(1), (text[: match.start()] + text[match.end() :]).strip()


def _cannot_post_in(client: WebClient, channel_id: str) -> str | None:
    """Why the bot cannot watch or post in the channel, or None. It does not join by itself:
    an admin invites it, which keeps the scopes small and works the same for every channel."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as error:
        if error.response.get("error") != "channel_not_found":
            raise  # answered by run_admin_command, e.g. rate limited
        return _texts()["unknown_channel"]
    if channel.get("is_private"):
        return _texts()["private_channel"]
    if not channel.get("is_member"):
        return _texts()["invite_me"].format(channel=channel_id)
    return None


def _watch(services: Services, client: WebClient, asked: AdminCommandAsked, user: dict) -> str:
    channel_id, _ = _mentioned_channel(asked.rest)
    if channel_id is None:
        return _texts()["which_channel"].format(subcommand="watch")
    if problem := _cannot_post_in(client, channel_id):
        return problem
    now = utcnow()
    with services.db.session() as session:
        newly_watched = watch_channel(session, asked.team_id, channel_id, now)
    if not newly_watched:
        return _texts()["already_watched"].format(channel=channel_id)
    source = Source(asked.team_id, channel_id, asked.bot_user_id, asked.bot_id)
    try:
        count = backfill(services.db, client, source, now)
    except SlackApiError as error:
        # Undo the watch, so that asking again (or this job's retry) backfills again: recording
        # is idempotent.
        with services.db.session() as session:
            unwatch_channel(session, asked.team_id, channel_id)
        if is_transient(error):
            raise
        return _texts()["backfill_failed"].format(
            channel=channel_id, days=BACKFILL_DAYS, problem=slack_trouble(error)
        )
    return _texts()["watching"].format(channel=channel_id, count=count, days=BACKFILL_DAYS)


def _unwatch(services: Services, client: WebClient, asked: AdminCommandAsked, user: dict) -> str:
    channel_id, _ = _mentioned_channel(asked.rest)
    if channel_id is None:
        return _texts()["which_channel"].format(subcommand="unwatch")
    with services.db.session() as session:
        stopped = unwatch_channel(session, asked.team_id, channel_id)
    return _texts()["unwatched" if stopped else "not_watched"].format(channel=channel_id)


def _set_team(services: Services, client: WebClient, asked: AdminCommandAsked, user: dict) -> str:
    groups = GROUP_MENTION.findall(asked.rest)
    members = set(USER_MENTION.findall(asked.rest))
    if not groups and not members:
        return _texts()["team_usage"]
    for group in groups:
        members.update(client.usergroups_users_list(usergroup=group)["users"])
    with services.db.session() as session:
        set_team(
            session,
            asked.team_id,
            usergroup_id=groups[0] if groups else None,
            user_ids=members,
        )
    return _texts()["team_set"].format(count=len(members))


def _remind(services: Services, client: WebClient, asked: AdminCommandAsked, user: dict) -> str:
    """`remind [#channel] [HH:MM] [Zone] [days] [quiet-skip]` or `remind off [#channel]`;
    without a channel, the channel the command was typed in."""
    channel_id, words = _mentioned_channel(asked.rest)
    channel_id = channel_id or asked.channel_id
    arguments = words.split()
    if arguments[:1] == ["off"]:
        with services.db.session() as session:
            removed = remove_schedule(session, asked.team_id, channel_id)
        return _texts()["remind_off" if removed else "remind_none"].format(channel=channel_id)
    skip_quiet_days = QUIET_SKIP in arguments
    try:
        timing = parse_schedule(
            " ".join(word for word in arguments if word != QUIET_SKIP),
            default_timezone=user.get("tz"),
        )
    except InvalidSchedule as invalid:
        return escape(str(invalid))  # it quotes what the admin typed
    if problem := _cannot_post_in(client, channel_id):
        return problem
    with services.db.session() as session:
        set_schedule(
            session,
            asked.team_id,
            channel_id,
            local_time=timing.local_time,
            timezone=timing.timezone,
            weekdays=timing.weekdays,
            skip_quiet_days=skip_quiet_days,
            created_by=user["id"],
        )
    return _schedule_set(channel_id, timing, skip_quiet_days)


def _schedule_set(channel_id: str, timing: ReminderTiming, skip_quiet_days: bool) -> str:
    texts = _texts()
    return texts["remind_set"].format(
        channel=channel_id,
        schedule=schedule_description(timing.local_time, timing.timezone, timing.weekdays),
        quiet=texts["quiet_suffix"] if skip_quiet_days else "",
    )


def _set_delivery(
    services: Services, client: WebClient, asked: AdminCommandAsked, user: dict
) -> str:
    texts = critique_texts()["delivery"]
    if asked.rest.lower() not in {mode.value for mode in CritiqueDelivery}:
        return texts["usage"]
    choice = CritiqueDelivery(asked.rest.lower())
    with services.db.session() as session:
        set_critique_delivery(session, asked.team_id, asked.channel_id, choice)
    return texts[f"set_{choice.value}"].format(channel=asked.channel_id)


def _store_text(services: Services, client: WebClient, asked: AdminCommandAsked, user: dict) -> str:
    """Whether critiqued replies keep their text (disputes then show it, and a lead's verdict
    on one becomes a calibration label); until RETENTION_DAYS have passed."""
    texts = _texts()
    choice = asked.rest.strip().lower()
    days = services.settings.retention_days
    if choice not in ("on", "off"):
        return texts["store_text_usage"].format(days=days)
    with services.db.session() as session:
        set_store_reply_text(session, asked.team_id, keep=choice == "on")
    return texts[f"store_text_{choice}"].format(days=days)


_HANDLERS: dict[str, Handler] = {
    "watch": _watch,
    "unwatch": _unwatch,
    "team": _set_team,
    "remind": _remind,
    "delivery": _set_delivery,
    "store-text": _store_text,
}
ADMIN_SUBCOMMANDS = frozenset(_HANDLERS)
