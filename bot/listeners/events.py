"""Events API listeners: parse, hand off, reply."""

from __future__ import annotations

from slack_bolt import App, Say

from bot.blocks.help import mention_reply
from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.event("app_mention")
    def point_to_help(event: dict, say: Say) -> None:
        say(text=mention_reply(event["user"]), thread_ts=event.get("thread_ts") or event["ts"])
