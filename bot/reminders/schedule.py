"""When a daily reminder is due: pure functions of a schedule and an injected "now".

A schedule is a local wall-clock time, an IANA time zone and ISO weekdays. Daylight saving time
is resolved with zoneinfo's `fold=0`, which gives exactly the rule we want:

- a local time that does not exist (spring forward, e.g. 02:30 in Berlin on the last Sunday of
  March) resolves *forward* by the length of the gap (03:30 summer time);
- a local time that happens twice (fall back) resolves to its *first* occurrence. The delivery log
  holds one row per schedule and local date, so the second occurrence never fires again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_LOCAL_TIME = time(9, 30)
MONDAY_TO_FRIDAY = (1, 2, 3, 4, 5)
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)

# Missed days further back than this are not looked at, so a long outage (or a schedule paused
# for months) produces a bounded number of "skipped" rows rather than one per day.
MAX_CATCH_UP = timedelta(days=7)

DAY_NAMES = {
    "mon": 1,
    "monday": 1,
    "tue": 2,
    "tues": 2,
    "tuesday": 2,
    "wed": 3,
    "wednesday": 3,
    "thu": 4,
    "thur": 4,
    "thurs": 4,
    "thursday": 4,
    "fri": 5,
    "friday": 5,
    "sat": 6,
    "saturday": 6,
    "sun": 7,
    "sunday": 7,
}
DAY_SETS = {"weekdays": MONDAY_TO_FRIDAY, "daily": EVERY_DAY, "weekends": (6, 7)}
TIME_PATTERN = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
USAGE = "Try for example `09:30 Europe/Berlin weekdays` or `08:00 America/New_York mon,wed,fri`."


@dataclass(frozen=True)
class ReminderTiming:
    """When a schedule fires: local time in an IANA zone on ISO weekdays (Monday = 1)."""

    local_time: time
    timezone: str
    weekdays: tuple[int, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class InvalidSchedule(ValueError):
    """The admin's schedule arguments are wrong; the message says how, in plain words."""


@dataclass(frozen=True)
class DueDate:
    """A local date whose reminder time has passed, and whether it should still be sent."""

    local_date: date
    due_at: datetime
    send: bool  # False: missed beyond the grace period (or superseded), record it as skipped


def parse_schedule(text: str, default_timezone: str | None = None) -> ReminderTiming:
    """Parse "09:30 Europe/Berlin weekdays", "8:00 America/New_York mon,wed,fri", "daily"…

    Words may come in any order. Without a time it is 09:30, without days Monday to Friday;
    without a time zone `default_timezone` (e.g. the admin's own) is used, if given.
    Raises InvalidSchedule with a message meant for the admin.
    """
    local_time: time | None = None
    weekdays: tuple[int, ...] | None = None
    timezone = None
    for word in text.split():
        if match := TIME_PATTERN.match(word):
            local_time = _parse_time(match)
        elif _looks_like_days(word):
            weekdays = _parse_days(word)
        elif timezone is None:
            timezone = _parse_timezone(word)
        else:
            raise InvalidSchedule(f"I don't understand `{word}`. {USAGE}")
    timezone = timezone or default_timezone
    if timezone is None:
        raise InvalidSchedule(f"Which time zone? {USAGE}")
    return ReminderTiming(
        local_time=local_time or DEFAULT_LOCAL_TIME,
        timezone=_parse_timezone(timezone),
        weekdays=weekdays or MONDAY_TO_FRIDAY,
    )


def _parse_time(match: re.Match[str]) -> time:
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise InvalidSchedule(
            f"`{match.group(0)}` is not a time of day: use 24-hour HH:MM, e.g. `09:30`."
        )
    return time(hour, minute)


def _looks_like_days(word: str) -> bool:
    lowered = word.lower()
    return lowered in DAY_SETS or re.split("[,-]", lowered)[0] in DAY_NAMES


def _parse_days(word: str) -> tuple[int, ...]:
    """ "weekdays", "daily", "weekends", or days and ranges: "mon,wed,fri", "mon-thu,sat"."""
    lowered = word.lower()
    if lowered in DAY_SETS:
        return DAY_SETS[lowered]
    days: set[int] = set()
    for part in filter(None, lowered.split(",")):
        first, _, last = part.partition("-")
        start = _day_number(first)
        end = _day_number(last) if last else start
        # A range may wrap around the weekend: "fri-mon" is Friday to Monday.
        days.update((start - 1 + offset) % 7 + 1 for offset in range((end - start) % 7 + 1))
    return tuple(sorted(days))


def _day_number(name: str) -> int:
    if name not in DAY_NAMES:
        raise InvalidSchedule(
            f"`{name}` is not a day: use mon, tue, wed, thu, fri, sat, sun, ranges such as "
            "`mon-thu`, `weekdays` or `daily`."
        )
    return DAY_NAMES[name]


def _parse_timezone(name: str) -> str:
    # ZoneInfo accepts relative file paths such as "../x"; only plain IANA names are wanted.
    if ".." in name or name.startswith("/"):
        raise InvalidSchedule(f"`{name}` is not a time zone. {USAGE}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            f"I don't know the time zone `{name}`: use an IANA name such as `Europe/Berlin`, "
            "`America/New_York` or `UTC`."
        ) from None
    return name


def due_at(timing: ReminderTiming, local_date: date) -> datetime:
    """The UTC instant of the reminder on `local_date` (see the module docstring for DST)."""
    local = datetime.combine(local_date, timing.local_time, tzinfo=timing.zone)  # fold=0
    return local.astimezone(UTC)


def is_reminder_day(timing: ReminderTiming, local_date: date) -> bool:
    return local_date.isoweekday() in timing.weekdays


def due_dates(
    timing: ReminderTiming,
    now: datetime,
    *,
    not_before: datetime,
    last_local_date: date | None,
    grace: timedelta,
) -> list[DueDate]:
    """The local dates, after `last_local_date`, whose reminder instant lies in
    [`not_before`, `now`], oldest first.

    Only the newest may be sent, and only within `grace` of its instant: after an outage the
    team gets one (late) reminder about yesterday, never a burst of stale ones. Every other date
    is returned with send=False so that it is recorded as skipped.
    """
    not_before = max(not_before, now - MAX_CATCH_UP)
    day = not_before.astimezone(timing.zone).date()
    if last_local_date is not None:
        day = max(day, last_local_date + timedelta(days=1))
    today = now.astimezone(timing.zone).date()
    instants = []
    while day <= today:
        if is_reminder_day(timing, day) and not_before <= (instant := due_at(timing, day)) <= now:
            instants.append((day, instant))
        day += timedelta(days=1)
    return [
        DueDate(day, instant, send=(index == len(instants) - 1 and now - instant <= grace))
        for index, (day, instant) in enumerate(instants)
    ]
