"""The settings admins change with /practice: watched channels, the team, schedules."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from bot.reminders.record import author_kind
from bot.reminders.schedule import ReminderTiming
from bot.store.db import Database
from bot.store.models import AuthorKind, DeliveryStatus, ReminderDelivery, ReminderSchedule
from bot.store.workspaces import (
    follow_group_change,
    is_watched,
    remove_schedule,
    schedule_of,
    set_schedule,
    set_team,
    unwatch_channel,
    watch_channel,
    workspace_of,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BERLIN_WEEKDAYS = ReminderTiming(time(9, 30), "Europe/Berlin", (1, 2, 3, 4, 5))


def test_a_channel_is_new_to_watch_once_until_it_is_unwatched(database: Database) -> None:
    with database.session() as session:
        assert watch_channel(session, "T1", "C1", NOW)
        assert not watch_channel(session, "T1", "C1", NOW)
        assert is_watched(session, "T1", "C1")
        assert not is_watched(session, "T2", "C1")  # another workspace's channel of that id
        assert unwatch_channel(session, "T1", "C1")
        assert not unwatch_channel(session, "T1", "C1")
        assert watch_channel(session, "T1", "C1", NOW)  # its history is read again


def test_the_team_decides_who_is_a_customer(database: Database) -> None:
    with database.session() as session:
        set_team(session, "T1", usergroup_id="S1", user_ids=["U2", "U1", "U2"])
        workspace = workspace_of(session, "T1")
        assert workspace.team_user_ids == ["U1", "U2"]
        assert author_kind(workspace, "U1", is_bot=False) is AuthorKind.team
        assert author_kind(workspace, "U9", is_bot=False) is AuthorKind.customer
        assert author_kind(workspace, "B1", is_bot=True) is AuthorKind.customer
        workspace.bots_count_as_customers = False
        assert author_kind(workspace, "B1", is_bot=True) is AuthorKind.bot


def test_the_team_follows_its_user_group(database: Database) -> None:
    with database.session() as session:
        set_team(session, "T1", usergroup_id="S1", user_ids=["U1", "U2"])
        assert follow_group_change(session, "T1", "S1", added=["U3"], removed=["U1"])
        assert not follow_group_change(session, "T1", "S9", added=["U9"], removed=[])
        assert workspace_of(session, "T1").team_user_ids == ["U2", "U3"]


def _schedule(session, timing: ReminderTiming, **options):
    return set_schedule(
        session,
        "T1",
        "C1",
        local_time=timing.local_time,
        timezone=timing.timezone,
        weekdays=timing.weekdays,
        **options,
    )


def test_setting_a_schedule_again_changes_it_and_resumes_it(database: Database) -> None:
    with database.session() as session:
        first = _schedule(session, BERLIN_WEEKDAYS, skip_quiet_days=False, created_by="U1")
        first.paused_reason = "channel archived"
        session.flush()
        daily = ReminderTiming(time(8, 0), "UTC", (1, 2, 3, 4, 5, 6, 7))
        again = _schedule(session, daily, skip_quiet_days=True, created_by="U2")
        assert again.id == first.id
        assert (again.local_time, again.weekdays, again.paused_reason) == (
            time(8, 0),
            [1, 2, 3, 4, 5, 6, 7],
            None,
        )


def test_turning_a_reminder_off_removes_its_delivery_log(database: Database) -> None:
    with database.session() as session:
        schedule = _schedule(session, BERLIN_WEEKDAYS, skip_quiet_days=False, created_by="U1")
        session.flush()
        session.add(
            ReminderDelivery(
                team_id="T1",
                schedule_id=schedule.id,
                local_date=NOW.date(),
                due_at=NOW,
                status=DeliveryStatus.sent,
            )
        )
    with database.session() as session:
        assert remove_schedule(session, "T1", "C1")
        assert not remove_schedule(session, "T1", "C1")
    with database.session() as session:
        assert schedule_of(session, "T1", "C1") is None
        assert session.scalars(select(ReminderSchedule)).all() == []
        assert session.scalars(select(ReminderDelivery)).all() == []
