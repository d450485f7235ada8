"""bot.coaching is Slack-free domain code: it must never import the Slack layer."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.coaching

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


def test_coaching_never_imports_slack():
    package = Path(bot.coaching.__file__).parent
    offenders = {
        str(path.relative_to(package)): sorted(
            name for name in imported_modules(path) if name.startswith(FORBIDDEN)
        )
        for path in package.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
