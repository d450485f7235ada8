"""Who may change the bot's settings: the admins listed in the workspace's settings, or Slack's
own workspace admins and owners."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.reminders.watching import workspace_of
from bot.store.db import Database


def slack_user(client: WebClient, user_id: str) -> dict[str, Any]:
    return client.users_info(user=user_id)["user"]


def is_admin(db: Database, team_id: str, user: dict[str, Any]) -> bool:
    if user.get("is_admin") or user.get("is_owner"):
        return True
    with db.session() as session:
        return user["id"] in workspace_of(session, team_id).admin_user_ids
