"""Making arbitrary text safe inside Slack mrkdwn and within Slack's size limits."""

from __future__ import annotations

from typing import Any

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
MESSAGE_TEXT_LIMIT = 40000  # a message's `text`, its fallback and notification
HEADER_TEXT_LIMIT = 150
MODAL_TITLE_LIMIT = 24  # also a modal's submit and close labels
BUTTON_TEXT_LIMIT = 75
# Slack accepts a web link to a message in any workspace the reader is in.
MESSAGE_LINK = "https://slack.com/archives/{channel}/p{ts}"


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


def header(text: str) -> dict[str, Any]:
    """A header block (large bold plain text), cut to Slack's limit."""
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def inline(text: str, limit: int) -> str:
    """Someone's free text on one line of mrkdwn: whitespace collapsed, cut, escaped."""
    return escape(truncate(" ".join(text.split()), limit))


def message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage or `respond`: the blocks, and the plain-text
    fallback (notifications, screen readers) cut to Slack's limit."""
    return {"text": truncate(text, MESSAGE_TEXT_LIMIT), "blocks": blocks}


def truncate(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, ending with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def context(mrkdwn: str) -> dict[str, Any]:
    """A context block (small grey text) with one mrkdwn element, cut to Slack's limit."""
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, CONTEXT_TEXT_LIMIT)}],
    }


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> dict[str, Any]:
    """A plain_text object, cut to `limit` (e.g. 24 for modal titles, 75 for options)."""
    return {"type": "plain_text", "text": truncate(text, limit)}


def message_link(channel_id: str, ts: str) -> str:
    """The permalink form of a message (or a thread, by its root's ts)."""
    return MESSAGE_LINK.format(channel=channel_id, ts=ts.replace(".", ""))


def quoted(text: str) -> str:
    """`text` escaped, as a mrkdwn block quote line by line."""
    return "\n".join(f"> {line}" for line in escape(text).splitlines() or [""])


def button(action_id: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button element; `style` "primary" or "danger", or None for Slack's default."""
    element = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, BUTTON_TEXT_LIMIT),
        "value": value,
    }
    return element | {"style": style} if style else element
