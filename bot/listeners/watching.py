"""The admin subcommands of `/practice`: watch, unwatch, team and remind.

Each is acked at once (a backfill takes longer than Slack's 3 s) and answers through the
response URL. Only admins may use them (see `admins`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.blocks.schedule import schedule_description
from bot.blocks.text import escape
from bot.prompt_files import read_toml
from bot.reminders.schedule import InvalidSchedule, ReminderTiming, parse_schedule
from bot.reminders.watching import (
    remove_schedule,
    set_schedule,
    set_team,
    unwatch_channel,
    watch_channel,
)
from bot.services import Services
from bot.slack.admins import for_admins, slack_trouble
from bot.slack.channel_messages import BACKFILL_DAYS, Source, backfill
from bot.store.base import utcnow

if TYPE_CHECKING:
    from bot.listeners.commands import Invocation

Handler = Callable[[Services, "Invocation", dict[str, Any]], str]

# Slack escapes mentions in command text: <#C123|support>, <@U123|ana>, <!subteam^S123|@team>.
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
GROUP_MENTION = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
QUIET_SKIP = "quiet-skip"


def subcommands(services: Services) -> dict[str, Callable[[Invocation], None]]:
    handlers: dict[str, Handler] = {
        "watch": _watch,
        "unwatch": _unwatch,
        "team": _set_team,
        "remind": _remind,
    }
    refusal = _texts()["not_admin"]
    return {
        name: for_admins(services, partial(handler, services), refusal)
        for name, handler in handlers.items()
    }


def _texts() -> dict[str, Any]:
    return read_toml("slack", "watching.toml")


def _mentioned_channel(text: str) -> tuple[str | None, str]:
    """The first channel mentioned, and the text without it."""
    match = CHANNEL_MENTION.search(text)
    if match is None:
        return None, text
    return match.group(1), (text[: match.start()] + text[match.end() :]).strip()


def _cannot_post_in(call: Invocation, channel_id: str) -> str | None:
    """Why the bot cannot watch or post in the channel, or None. It does not join by itself:
    an admin invites it, which keeps the scopes small and works the same for every channel."""
    try:
        channel = call.client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as error:
        if error.response.get("error") != "channel_not_found":
            raise  # answered by the gate, e.g. rate limited
        return _texts()["unknown_channel"]
    if channel.get("is_private"):
        return _texts()["private_channel"]
    if not channel.get("is_member"):
        return _texts()["invite_me"].format(channel=channel_id)
    return None


def _watch(services: Services, call: Invocation, user: dict[str, Any]) -> str:
    channel_id, _ = _mentioned_channel(call.rest)
    if channel_id is None:
        return _texts()["which_channel"].format(subcommand="watch")
    if problem := _cannot_post_in(call, channel_id):
        return problem
    now = utcnow()
    with services.db.session() as session:
        newly_watched = watch_channel(session, call.context.team_id, channel_id, now)
    if not newly_watched:
        return _texts()["already_watched"].format(channel=channel_id)
    source = Source(call.context.team_id, channel_id, call.context.bot_user_id, call.context.bot_id)
    try:
        count = backfill(services.db, call.client, source, now)
    except SlackApiError as error:
        # Undo the watch, so that asking again backfills again (recording is idempotent).
        with services.db.session() as session:
            unwatch_channel(session, call.context.team_id, channel_id)
        return _texts()["backfill_failed"].format(
            channel=channel_id, days=BACKFILL_DAYS, problem=slack_trouble(error)
        )
    return _texts()["watching"].format(channel=channel_id, count=count, days=BACKFILL_DAYS)


def _unwatch(services: Services, call: Invocation, user: dict[str, Any]) -> str:
    channel_id, _ = _mentioned_channel(call.rest)
    if channel_id is None:
        return _texts()["which_channel"].format(subcommand="unwatch")
    with services.db.session() as session:
        stopped = unwatch_channel(session, call.context.team_id, channel_id)
    return _texts()["unwatched" if stopped else "not_watched"].format(channel=channel_id)


def _set_team(services: Services, call: Invocation, user: dict[str, Any]) -> str:
    groups = GROUP_MENTION.findall(call.rest)
    members = set(USER_MENTION.findall(call.rest))
    if not groups and not members:
        return _texts()["team_usage"]
    for group in groups:
        members.update(call.client.usergroups_users_list(usergroup=group)["users"])
    with services.db.session() as session:
        set_team(
            session,
            call.context.team_id,
            usergroup_id=groups[0] if groups else None,
            user_ids=members,
        )
    return _texts()["team_set"].format(count=len(members))


def _remind(services: Services, call: Invocation, user: dict[str, Any]) -> str:
    """`remind [#channel] [HH:MM] [Zone] [days] [quiet-skip]` or `remind off [#channel]`;
    without a channel, the channel the command was typed in."""
    channel_id, words = _mentioned_channel(call.rest)
    channel_id = channel_id or call.command["channel_id"]
    arguments = words.split()
    if arguments[:1] == ["off"]:
        with services.db.session() as session:
            removed = remove_schedule(session, call.context.team_id, channel_id)
        return _texts()["remind_off" if removed else "remind_none"].format(channel=channel_id)
    skip_quiet_days = QUIET_SKIP in arguments
    try:
        timing = parse_schedule(
            " ".join(word for word in arguments if word != QUIET_SKIP),
            default_timezone=user.get("tz"),
        )
    except InvalidSchedule as invalid:
        return escape(str(invalid))  # it quotes what the admin typed
    if problem := _cannot_post_in(call, channel_id):
        return problem
    with services.db.session() as session:
        set_schedule(
            session,
            call.context.team_id,
            channel_id,
            timing,
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
