"""Making arbitrary text safe inside Slack mrkdwn and within Slack's size limits."""

from __future__ import annotations

from typing import Any

SECTION_TEXT_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 40000


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control sequences, so quoted text cannot
    ping (`<!channel>`), mention users or disguise links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(mrkdwn: str) -> dict[str, Any]:
    """A mrkdwn section block, cut to Slack's limit."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT_LIMIT)},
    }


def truncate(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, ending with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
