"""The README is what a new user reads first: its settings table and commands must be true."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _settings_table() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.+?) \| (.+?) \|$", README, flags=re.MULTILINE)
    return {name: (default, meaning) for name, default, meaning in rows}


def _documented_default(field) -> str:
    default = field.default
    if default is None:
        return "—"
    return f"`{getattr(default, 'value', default)}`"


def test_every_setting_is_in_the_readme_table_with_its_default_and_meaning() -> None:
    table = _settings_table()
    assert set(table) == {name.upper() for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        assert table[name.upper()] == (_documented_default(field), field.description)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = re.search(r"\*\*Install and run the tests\*\*.*?```sh\n(.+?)\n```", README, re.S)
    assert test_command is not None
    assert test_command.group(1) in (ROOT / ".ci" / "run").read_text()


def test_the_development_section_says_where_the_eval_data_is_found_and_what_skips() -> None:
    development = README.split("## Development", 1)[1]
    assert "`$ASAP_SHARED_DIR/eval`" in development and "`../shared/eval`" in development
    skipping = re.findall(r"`(tests/[\w/]+\.py)`", development)
    assert len(skipping) == 3 and all((ROOT / name).is_file() for name in skipping)
