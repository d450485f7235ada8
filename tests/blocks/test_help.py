from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.blocks.help import help_message
from bot.blocks.text import escape, truncate


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_help_message(snapshot_json) -> None:
    assert help_message() == snapshot_json


def test_help_for_an_unknown_subcommand_names_it_first(snapshot_json) -> None:
    message = help_message(unknown_subcommand="dance")
    assert message["blocks"][0]["text"]["text"] == "I don't know `dance`."
    assert message == snapshot_json


def test_an_unknown_subcommand_cannot_ping_or_break_out_of_its_code_span() -> None:
    message = help_message(unknown_subcommand="<!channel>`*boom*`")
    first_line = message["blocks"][0]["text"]["text"]
    assert "<!channel>" not in first_line
    assert first_line == "I don't know `&lt;!channel&gt;'*boom*'`."


def test_a_huge_unknown_subcommand_is_shortened() -> None:
    first_line = help_message(unknown_subcommand="x" * 10_000)["blocks"][0]["text"]["text"]
    assert len(first_line) < 100
    assert first_line.endswith("…`.")


def test_escape_neutralises_mentions_and_links() -> None:
    assert (
        escape("<@U123> & <https://evil|bank>") == "&lt;@U123&gt; &amp; &lt;https://evil|bank&gt;"
    )


def test_truncate_keeps_short_text_and_marks_cuts() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 20, 10) == "a" * 9 + "…"
