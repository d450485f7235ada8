"""The shared Block Kit helpers keep every text within Slack's limits, and free text escaped."""

from __future__ import annotations

from bot.blocks.text import (
    CONTEXT_TEXT_LIMIT,
    HEADER_TEXT_LIMIT,
    MESSAGE_TEXT_LIMIT,
    context,
    header,
    inline,
    message,
)


def test_header_context_and_message_text_are_cut_to_slacks_limits() -> None:
    long = "word " * 20_000
    assert len(header(long)["text"]["text"]) == HEADER_TEXT_LIMIT
    assert len(context(long)["elements"][0]["text"]) == CONTEXT_TEXT_LIMIT
    assert len(message(long, [])["text"]) <= MESSAGE_TEXT_LIMIT
    assert message("short", [])["text"] == "short"


def test_inline_is_one_escaped_line() -> None:
    assert inline("<!channel>\n  please\tcalm down", 100) == "&lt;!channel&gt; please calm down"
    assert inline("a " * 100, 10) == "a a a a a…"
