"""bot.reminders is Slack-free domain code: Slack reaches it only through plain values and the
ReminderPoster protocol."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.reminders

FORBIDDEN = ("slack_bolt", "slack_sdk", "bot.listeners", "bot.blocks")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_reminders_never_import_slack() -> None:
    package = Path(bot.reminders.__file__).parent
    offenders = {
        path.name: sorted(name for name in imported_modules(path) if name.startswith(FORBIDDEN))
        for path in package.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
