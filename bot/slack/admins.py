"""Who may change the bot's settings: the admins listed in the workspace's settings, or Slack's
own workspace admins and owners. `for_admins` is the gate of every admin subcommand."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.prompt_files import read_toml
from bot.reminders.watching import workspace_of
from bot.services import Services
from bot.store.db import Database

if TYPE_CHECKING:
    from bot.listeners.commands import Invocation

logger = logging.getLogger(__name__)

# An admin subcommand: the invocation and the admin's Slack user in, the answer out.
AdminHandler = Callable[["Invocation", dict[str, Any]], str]


def slack_user(client: WebClient, user_id: str) -> dict[str, Any]:
    return client.users_info(user=user_id)["user"]


def is_admin(db: Database, team_id: str, user: dict[str, Any]) -> bool:
    if user.get("is_admin") or user.get("is_owner"):
        return True
    with db.session() as session:
        return user["id"] in workspace_of(session, team_id).admin_user_ids


def for_admins(
    services: Services, handler: AdminHandler, refusal: str
) -> Callable[[Invocation], None]:
    """Ack at once (the handler may take longer than Slack's 3 s), then answer through the
    response URL: the handler's answer for admins, `refusal` for anyone else, and in plain
    words what Slack refused when one of its calls fails."""

    def run(call: Invocation) -> None:
        call.ack()
        try:
            user = slack_user(call.client, call.command["user_id"])
            if is_admin(services.db, call.context.team_id, user):
                answer = handler(call, user)
            else:
                answer = refusal
        except SlackApiError as error:
            logger.warning("admin subcommand: Slack refused: %s", error.response.get("error"))
            answer = slack_trouble(error)
        call.respond(text=answer)

    return run


def slack_trouble(error: SlackApiError) -> str:
    """What went wrong with a Slack call, in plain words for the person who asked."""
    texts = read_toml("slack", "watching.toml")["slack_errors"]
    code = str(error.response.get("error") or "unknown")
    needed = error.response.get("needed") or "?"
    return texts.get(code, texts["other"]).format(code=code, needed=needed)
