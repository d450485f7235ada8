"""When reminders are due: DST, weekdays, the grace period, and the admin's schedule words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.reminders.schedule import (
    EVERY_DAY,
    MONDAY_TO_FRIDAY,
    DueDate,
    InvalidSchedule,
    ReminderTiming,
    due_at,
    due_dates,
    parse_schedule,
)

BERLIN_0230_DAILY = ReminderTiming(time(2, 30), "Europe/Berlin", EVERY_DAY)
GRACE = timedelta(minutes=120)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_winter_and_a_summer_day_in_berlin() -> None:
    timing = ReminderTiming(time(9, 30), "Europe/Berlin", MONDAY_TO_FRIDAY)
    assert due_at(timing, date(2026, 1, 15)) == utc(2026, 1, 15, 8, 30)
    assert due_at(timing, date(2026, 7, 15)) == utc(2026, 7, 15, 7, 30)


def test_nonexistent_local_time_resolves_forward_on_spring_forward() -> None:
    # 2026-03-29: Berlin clocks jump from 02:00 to 03:00; 02:30 becomes 03:30 summer time.
    assert due_at(BERLIN_0230_DAILY, date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)


def test_repeated_local_time_fires_once_at_its_first_occurrence_on_fall_back() -> None:
    # 2026-10-25: 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC.
    first = utc(2026, 10, 25, 0, 30)
    assert due_at(BERLIN_0230_DAILY, date(2026, 10, 25)) == first
    assert due_at(BERLIN_0230_DAILY, date(2026, 10, 26)) == utc(2026, 10, 26, 1, 30)

    def due_now(now: datetime, last: date | None) -> list[date]:
        dues = due_dates(
            BERLIN_0230_DAILY, now, not_before=utc(2026, 10, 20), last_local_date=last, grace=GRACE
        )
        return [due.local_date for due in dues]

    assert due_now(first, last=date(2026, 10, 24)) == [date(2026, 10, 25)]
    # At the second 02:30 the date has its delivery already: nothing more is due.
    assert due_now(utc(2026, 10, 25, 1, 30), last=date(2026, 10, 25)) == []


def test_new_york_dst_transitions() -> None:
    timing = ReminderTiming(time(2, 30), "America/New_York", EVERY_DAY)
    # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist, fires at 03:30 EDT.
    assert due_at(timing, date(2026, 3, 8)) == utc(2026, 3, 8, 7, 30)
    # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice, fires at the first (EDT).
    at_0130 = ReminderTiming(time(1, 30), "America/New_York", EVERY_DAY)
    assert due_at(at_0130, date(2026, 11, 1)) == utc(2026, 11, 1, 5, 30)
    assert due_at(at_0130, date(2026, 11, 2)) == utc(2026, 11, 2, 6, 30)


def test_days_that_are_not_reminder_days_are_never_due() -> None:
    timing = ReminderTiming(time(9, 30), "Europe/Berlin", (1, 3, 5))
    dues = due_dates(
        timing,
        utc(2026, 12, 2, 8, 30),  # Wednesday, at its reminder time
        not_before=utc(2026, 11, 27, 9, 0),  # Friday, after its reminder
        last_local_date=None,
        grace=GRACE,
    )
    assert [(due.local_date, due.due_at) for due in dues] == [
        (date(2026, 11, 30), utc(2026, 11, 30, 8, 30)),  # Monday
        (date(2026, 12, 2), utc(2026, 12, 2, 8, 30)),
    ]


def test_weekend_is_not_due_on_a_weekday_schedule() -> None:
    timing = ReminderTiming(time(9, 30), "UTC", MONDAY_TO_FRIDAY)
    saturday = utc(2026, 11, 28, 12, 0)
    dues = due_dates(
        timing, saturday, not_before=utc(2026, 11, 27, 10), last_local_date=None, grace=GRACE
    )
    assert dues == []


def test_on_time_and_late_within_grace_are_sent_beyond_grace_skipped() -> None:
    timing = ReminderTiming(time(9, 30), "UTC", EVERY_DAY)

    def due(now: datetime) -> list[DueDate]:
        return due_dates(
            timing,
            now,
            not_before=utc(2026, 11, 1),
            last_local_date=date(2026, 11, 22),
            grace=GRACE,
        )

    assert due(utc(2026, 11, 23, 9, 29)) == []
    assert due(utc(2026, 11, 23, 9, 30)) == [
        DueDate(date(2026, 11, 23), utc(2026, 11, 23, 9, 30), True)
    ]
    assert due(utc(2026, 11, 23, 11, 30))[0].send  # exactly at the end of the grace period
    assert not due(utc(2026, 11, 23, 11, 31))[0].send


def test_after_an_outage_only_the_newest_date_may_be_sent() -> None:
    timing = ReminderTiming(time(9, 30), "UTC", MONDAY_TO_FRIDAY)
    dues = due_dates(
        timing,
        utc(2026, 11, 25, 10, 0),  # Wednesday, half an hour late
        not_before=utc(2026, 11, 1),
        last_local_date=date(2026, 11, 20),  # last sent on Friday
        grace=GRACE,
    )
    assert [(d.local_date, d.send) for d in dues] == [
        (date(2026, 11, 23), False),
        (date(2026, 11, 24), False),
        (date(2026, 11, 25), True),
    ]


def test_a_schedule_created_after_todays_time_starts_tomorrow() -> None:
    timing = ReminderTiming(time(9, 30), "UTC", EVERY_DAY)
    created = utc(2026, 11, 23, 10, 0)
    assert due_dates(timing, created, not_before=created, last_local_date=None, grace=GRACE) == []
    tomorrow = due_dates(
        timing, utc(2026, 11, 24, 9, 31), not_before=created, last_local_date=None, grace=GRACE
    )
    assert [d.local_date for d in tomorrow] == [date(2026, 11, 24)]


def test_catch_up_looks_back_a_week_at_most() -> None:
    timing = ReminderTiming(time(9, 30), "UTC", EVERY_DAY)
    dues = due_dates(
        timing,
        utc(2026, 11, 23, 9, 30),
        not_before=utc(2026, 1, 1),
        last_local_date=None,
        grace=GRACE,
    )
    # 16 to 23 November: both ends included
    assert [d.local_date for d in dues] == [date(2026, 11, day) for day in range(16, 24)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "09:30 Europe/Berlin weekdays",
            ReminderTiming(time(9, 30), "Europe/Berlin", (1, 2, 3, 4, 5)),
        ),
        (
            "8:05 America/New_York mon,wed,fri",
            ReminderTiming(time(8, 5), "America/New_York", (1, 3, 5)),
        ),
        ("Asia/Tokyo daily 17:00", ReminderTiming(time(17, 0), "Asia/Tokyo", EVERY_DAY)),
        ("UTC", ReminderTiming(time(9, 30), "UTC", MONDAY_TO_FRIDAY)),
        ("07:00 UTC Sun,Sat", ReminderTiming(time(7, 0), "UTC", (6, 7))),
        ("07:00 UTC mon-thu,sat", ReminderTiming(time(7, 0), "UTC", (1, 2, 3, 4, 6))),
        ("07:00 UTC fri-mon", ReminderTiming(time(7, 0), "UTC", (1, 5, 6, 7))),
    ],
)
def test_parse_schedule(text: str, expected: ReminderTiming) -> None:
    assert parse_schedule(text) == expected


def test_parse_schedule_falls_back_to_the_admins_time_zone() -> None:
    assert parse_schedule("10:00", default_timezone="Europe/Paris").timezone == "Europe/Paris"
    assert parse_schedule("10:00 UTC", default_timezone="Europe/Paris").timezone == "UTC"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:30 Mars/Olympus", "I don't know the time zone `Mars/Olympus`"),
        ("25:00 UTC", "`25:00` is not a time of day"),
        ("09:30 UTC mon,fun", "`fun` is not a day"),
        ("09:30 UTC mon-fun", "`fun` is not a day"),
        ("09:30", "Which time zone?"),
        ("09:30 UTC Europe/Berlin", "I don't understand `Europe/Berlin`"),
        ("09:30 ../../etc/passwd", "is not a time zone"),
    ],
)
def test_parse_schedule_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message.replace("?", r"\?").replace(".", r"\.")):
        parse_schedule(text)
