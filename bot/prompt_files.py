"""Reading the bot's editable texts and data from `prompts/` (installed as `bot.prompts`)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def read_toml(*path: str) -> dict[str, Any]:
    """A TOML file under prompts/, parsed once per process."""
    return tomllib.loads(read_text(*path))


def read_text(*path: str) -> str:
    return files("bot.prompts").joinpath(*path).read_text(encoding="utf-8")
