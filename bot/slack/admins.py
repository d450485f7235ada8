"""Who may change the bot's settings: the admins listed in the workspace's settings, or Slack's
own workspace admins and owners; only ever people of the workspace itself."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.prompt_files import read_toml
from bot.store.db import Database
from bot.store.workspaces import is_listed_admin


def admin_user(
    db: Database, client: WebClient, team_id: str, user_id: str
) -> dict[str, Any] | None:
    """The person's Slack profile when they are an admin of the bot, else None."""
    user = client.users_info(user=user_id)["user"]
    if user.get("team_id") != team_id:
        # A guest from another organisation in a Slack Connect channel: an admin of their own
        # workspace (is_admin says so) administers nothing here.
        return None
    if user.get("is_admin") or user.get("is_owner"):
        return user
    with db.session() as session:
        return user if is_listed_admin(session, team_id, user_id) else None


def slack_trouble(error: SlackApiError) -> str:
    """What went wrong with a Slack call, in plain words for the person who asked."""
    texts = read_toml("slack", "watching.toml")["slack_errors"]
    code = str(error.response.get("error") or "unknown")
    needed = error.response.get("needed") or "?"
    return texts.get(code, texts["other"]).format(code=code, needed=needed)
