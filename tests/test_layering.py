"""The domain packages are Slack-free: Slack reaches them only through plain values and small
protocols (e.g. ReminderPoster), so they can be driven from the terminal and tested directly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.coaching
import bot.reminders

SLACK_LAYER = ("slack_bolt", "slack_sdk", "bot.listeners", "bot.blocks")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", [bot.coaching, bot.reminders], ids=lambda p: p.__name__)
def test_domain_packages_never_import_the_slack_layer(package) -> None:
    root = Path(package.__file__).parent
    offenders = {
        str(path.relative_to(root)): sorted(
            name for name in imported_modules(path) if name.startswith(SLACK_LAYER)
        )
        for path in root.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
