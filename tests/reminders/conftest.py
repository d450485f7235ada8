"""Fixtures of the reminder tests: schedules in the database under test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

import pytest

from bot.store.db import Database
from bot.store.models import ReminderSchedule

CREATED = datetime(2026, 11, 24, tzinfo=UTC)  # the morning of the first reminder under test

AddSchedule = Callable[..., int]


@pytest.fixture
def add_schedule(database: Database) -> AddSchedule:
    """Adds a schedule (daily at 09:30 UTC unless told otherwise) and returns its id."""

    def add(channel_id: str = "C-reminders", team_id: str = "T1", **values: object) -> int:
        defaults: dict[str, object] = {
            "local_time": time(9, 30),
            "timezone": "UTC",
            "weekdays": [1, 2, 3, 4, 5, 6, 7],
            "created_at": CREATED,
        }
        with database.session() as session:
            schedule = ReminderSchedule(
                team_id=team_id, channel_id=channel_id, **(defaults | values)
            )
            session.add(schedule)
            session.flush()
            return schedule.id

    return add
