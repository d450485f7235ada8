"""The `/practice help` message."""

from __future__ import annotations

from typing import Any

from bot.blocks.text import context, inline, message, section
from bot.prompt_files import read_toml

UNKNOWN_SUBCOMMAND_SHOWN = 40  # characters of an unknown subcommand echoed back


def help_message(
    unknown_subcommand: str | None = None, suggestion: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for `ack`/`respond`: text plus blocks, ephemeral by default;
    `suggestion` (a known subcommand or scenario id) follows the unknown subcommand."""
    help_text = read_toml("slack", "help.toml")
    usage_lines = "\n".join(
        f"`{entry['usage']}` — {entry['description']}" for entry in help_text["subcommands"]
    )
    blocks: list[dict[str, Any]] = []
    if unknown_subcommand is not None:
        shown = inline(unknown_subcommand, UNKNOWN_SUBCOMMAND_SHOWN).replace("`", "'")
        unknown = help_text["unknown"].format(subcommand=shown)
        if suggestion is not None:
            unknown += " " + help_text["did_you_mean"].format(suggestion=suggestion)
        blocks.append(section(unknown))
    blocks += [
        section(help_text["intro"]),
        section(usage_lines),
        context(help_text["footer"]),
    ]
    fallback = "\n".join(block["text"]["text"] for block in blocks if block["type"] == "section")
    return message(fallback, blocks)


def mention_reply(user_id: str) -> str:
    """What the bot answers when @mentioned: a pointer to the help."""
    return read_toml("slack", "help.toml")["mention"].format(user=user_id)
