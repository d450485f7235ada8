"""The practice domain stays Slack-free: the Slack layer and the terminal both drive it."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.coaching.practice as practice

FORBIDDEN = ("slack_bolt", "slack_sdk", "bot.listeners")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_practice_package_never_imports_slack_or_the_listeners():
    for path in Path(practice.__file__).parent.glob("*.py"):
        for module in imported_modules(path):
            assert not module.startswith(FORBIDDEN), f"{path.name} imports {module}"
