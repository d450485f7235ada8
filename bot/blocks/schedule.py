"""How a reminder schedule reads, in command answers and on the admin's Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from bot.prompt_files import read_toml
from bot.reminders.schedule import EVERY_DAY


def schedule_description(local_time: time, timezone: str, weekdays: Sequence[int]) -> str:
    """ "09:30 (Europe/Berlin) on Mon, Tue, Wed, Thu, Fri"."""
    texts = read_toml("slack", "watching.toml")
    days = (
        texts["every_day"]
        if tuple(weekdays) == EVERY_DAY
        else ", ".join(texts["day_names"][str(day)] for day in weekdays)
    )
    return texts["schedule"].format(time=local_time.strftime("%H:%M"), timezone=timezone, days=days)
