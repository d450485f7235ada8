"""The daily reminder message, rendered from a `Digest` (bot/reminders/digest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks.text import BUTTON_TEXT_LIMIT, context, header, message, plain, section
from bot.reminders.digest import ChannelComparison, Digest

PRACTISE_NOW_ACTION = "practise_now"
MAX_CHANNELS_SHOWN = 20  # a message holds at most 50 blocks
NO_VALUE = "n/a"
CHANNEL_FIGURES = (
    "threads_opened",
    "median_first_response",
    "p90_first_response",
    "unanswered",
    "repeat_customers",
    "critiques",
)


def reminder_message(digest: Digest) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage: the blocks and their plain-text fallback."""
    texts = digest.texts
    blocks = [header(texts.question)]
    if digest.quiet:
        blocks.append(section(texts.quiet_day))
    else:
        blocks += _figures(digest)
        if digest.most_missed is not None:
            step = texts.steps[digest.most_missed.step]
            period = texts.periods[digest.most_missed.period]
            blocks.append(section(texts.most_missed.format(step=step, period=period)))
        blocks.append(section(f"*{texts.tip_heading}:* {digest.tip.text}"))
    blocks.append(_practise_button(digest))
    return message(_fallback(digest), blocks)


def _figures(digest: Digest) -> list[dict[str, Any]]:
    texts = digest.texts
    if not digest.channels:
        return [section(texts.no_channels)]
    blocks = [
        section(_channel_lines(digest, comparison))
        for comparison in digest.channels[:MAX_CHANNELS_SHOWN]
    ]
    practice = digest.practice_sessions
    change = practice - digest.practice_sessions_week_before
    blocks.append(
        section(f"{texts.figures['practice_sessions']}: *{practice}* ({_signed(change)})")
    )
    blocks.append(context(texts.compared_with))
    return blocks


def _channel_lines(digest: Digest, comparison: ChannelComparison) -> str:
    labels = digest.texts.figures
    hours = int(digest.unanswered_after.total_seconds() // 3600)
    lines = [f"*<#{comparison.channel_id}>*"]
    for figure in CHANNEL_FIGURES:
        label = labels[figure].format(hours=hours)
        value = getattr(comparison.yesterday, figure)
        lines.append(f"{label}: *{_value(value)}* ({_change(comparison.change(figure))})")
    return "\n".join(lines)


def _value(value: int | timedelta | None) -> str:
    if value is None:
        return NO_VALUE
    return duration(value) if isinstance(value, timedelta) else str(value)


def _change(change: int | timedelta | None) -> str:
    if change is None:
        return NO_VALUE
    if isinstance(change, timedelta):
        seconds = change.total_seconds()
        sign = "+" if seconds > 0 else "-" if seconds < 0 else "±"
        return sign + duration(abs(change))
    return _signed(change)


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else f"-{-number}" if number < 0 else "±0"


def duration(value: timedelta) -> str:
    """Minutes under an hour ("12 min"), else hours and minutes ("3 h 05 min")."""
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _practise_button(digest: Digest) -> dict[str, Any]:
    step = digest.most_missed.step if digest.most_missed else None
    return practise_button(digest.texts.practise_button, step)


def practise_button(label: str, step: str | None) -> dict[str, Any]:
    """An actions block whose button starts practice, on `step` when given."""
    button = {
        "type": "button",
        "action_id": PRACTISE_NOW_ACTION,
        "text": plain(label, BUTTON_TEXT_LIMIT),
        "style": "primary",
    }
    if step:
        button["value"] = step
    return {"type": "actions", "elements": [button]}


def _fallback(digest: Digest) -> str:
    if digest.quiet:
        return f"{digest.texts.question} {digest.texts.quiet_day}"
    return f"{digest.texts.question} {digest.texts.tip_heading}: {digest.tip.text}"
