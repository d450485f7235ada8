"""A workspace's and its channels' settings, as admins choose them with `/practice`: the coaching
emoji, who is on the team and who is an admin, which channels are watched, where their critiques
go and when their daily reminder is due. One module for reading and writing them; plain values
in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import ChannelSettings, CritiqueDelivery, ReminderSchedule, Workspace


def workspace_of(session: Session, team_id: str) -> Workspace:
    """The workspace's settings row, made with the defaults on first use."""
    workspace = session.get(Workspace, team_id)
    if workspace is not None:
        return workspace
    try:
        with session.begin_nested():
            workspace = Workspace(team_id=team_id, team_user_ids=[], admin_user_ids=[])
            session.add(workspace)
        return workspace
    except IntegrityError:
        # Two first requests of a new workspace at once: the other one made it.
        return session.get(Workspace, team_id)


def channel_settings(session: Session, team_id: str, channel_id: str) -> ChannelSettings | None:
    return session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id
        )
    )


def channel_settings_of(session: Session, team_id: str, channel_id: str) -> ChannelSettings:
    """The channel's settings row, made with the defaults on first use."""
    row = channel_settings(session, team_id, channel_id)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = ChannelSettings(team_id=team_id, channel_id=channel_id)
            session.add(row)
        return row
    except IntegrityError:  # made meanwhile by a concurrent request
        return channel_settings(session, team_id, channel_id)


def coaching_emoji(session: Session, team_id: str) -> str:
    return workspace_of(session, team_id).coaching_emoji


def is_watched(session: Session, team_id: str, channel_id: str) -> bool:
    settings = channel_settings(session, team_id, channel_id)
    return settings is not None and settings.watched


def critique_delivery(session: Session, team_id: str, channel_id: str) -> CritiqueDelivery:
    settings = channel_settings(session, team_id, channel_id)
    return CritiqueDelivery.direct_message if settings is None else settings.critique_delivery


def set_critique_delivery(
    session: Session, team_id: str, channel_id: str, delivery: CritiqueDelivery
) -> None:
    channel_settings_of(session, team_id, channel_id).critique_delivery = delivery


def set_store_reply_text(session: Session, team_id: str, keep: bool) -> None:
    workspace_of(session, team_id).store_reply_text = keep


def watch_channel(session: Session, team_id: str, channel_id: str, now: datetime) -> bool:
    """Start watching; True when it was not watched before (its recent history is then due)."""
    settings = channel_settings_of(session, team_id, channel_id)
    if settings.watched:
        return False
    settings.watched = True
    settings.watched_since = now
    return True


def unwatch_channel(session: Session, team_id: str, channel_id: str) -> bool:
    """Stop watching (what was recorded stays for the figures); False when it was not watched."""
    settings = channel_settings(session, team_id, channel_id)
    if settings is None or not settings.watched:
        return False
    settings.watched = False
    return True


def set_team(
    session: Session, team_id: str, *, usergroup_id: str | None, user_ids: Iterable[str]
) -> None:
    """The team is a user group's members (resolved by the caller) and/or a list of people."""
    workspace = workspace_of(session, team_id)
    workspace.team_usergroup_id = usergroup_id
    workspace.team_user_ids = sorted(set(user_ids))


def follow_group_change(
    session: Session,
    team_id: str,
    usergroup_id: str,
    *,
    added: Iterable[str],
    removed: Iterable[str],
) -> bool:
    """Keep the team in step with its user group; False when it is not the team's group."""
    workspace = workspace_of(session, team_id)
    if workspace.team_usergroup_id != usergroup_id:
        return False
    workspace.team_user_ids = sorted((set(workspace.team_user_ids) | set(added)) - set(removed))
    return True


def is_listed_admin(session: Session, team_id: str, user_id: str) -> bool:
    """Whether the workspace's settings name this person an admin of the bot (Slack's own
    admins and owners are admins too: the caller asks Slack)."""
    return user_id in workspace_of(session, team_id).admin_user_ids


def set_schedule(
    session: Session,
    team_id: str,
    channel_id: str,
    *,
    local_time: time,
    timezone: str,
    weekdays: Iterable[int],
    skip_quiet_days: bool,
    created_by: str,
) -> ReminderSchedule:
    """Create or change the channel's schedule. Setting it again also resumes a paused one:
    the admin has seen why it stopped (e.g. the bot was invited back)."""
    schedule = schedule_of(session, team_id, channel_id)
    if schedule is None:
        schedule = ReminderSchedule(team_id=team_id, channel_id=channel_id)
        session.add(schedule)
    schedule.local_time = local_time
    schedule.timezone = timezone
    schedule.weekdays = list(weekdays)
    schedule.skip_quiet_days = skip_quiet_days
    schedule.paused_reason = None
    schedule.created_by = created_by
    return schedule


def schedule_of(session: Session, team_id: str, channel_id: str) -> ReminderSchedule | None:
    return session.scalar(
        select(ReminderSchedule).where(
            ReminderSchedule.team_id == team_id, ReminderSchedule.channel_id == channel_id
        )
    )


def remove_schedule(session: Session, team_id: str, channel_id: str) -> bool:
    """Turn the channel's reminder off (its delivery log goes with it); False when it had none."""
    schedule = schedule_of(session, team_id, channel_id)
    if schedule is None:
        return False
    session.delete(schedule)
    return True
