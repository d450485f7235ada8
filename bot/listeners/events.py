"""Events API listeners: parse, hand off, reply."""

from __future__ import annotations

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot.blocks.help import mention_reply
from bot.listeners.roleplay import hand_off_message
from bot.reminders.watching import follow_group_change
from bot.services import Services
from bot.slack.channel_messages import Source, record_event
from bot.slack.reviewing import critique_reaction

# Where support conversations happen: public channels (message.channels in the manifest).
WATCHABLE_CHANNEL_TYPES = {"channel"}


def register(app: App, services: Services) -> None:
    @app.event("reaction_added")
    def critique_on_reaction(event: dict, client: WebClient, context: BoltContext) -> None:
        critique_reaction(services, client, context, event)

    @app.event("app_mention")
    def point_to_help(event: dict, say: Say) -> None:
        say(text=mention_reply(event["user"]), thread_ts=event.get("thread_ts") or event["ts"])

    # The team is a user group's members (/practice team @group): follow its changes.
    @app.event("subteam_members_changed")
    def follow_team_group(event: dict, context: BoltContext) -> None:
        with services.db.session() as session:
            follow_group_change(
                session,
                context.team_id,
                event["subteam_id"],
                added=event.get("added_users", []),
                removed=event.get("removed_users", []),
            )

    # Bolt runs only the first listener matching a request, so this is the one `message`
    # listener: it dispatches by where the message was posted.
    @app.event("message")
    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        if event.get("channel_type") in WATCHABLE_CHANNEL_TYPES:
            source = Source(context.team_id, event["channel"], context.bot_user_id, context.bot_id)
            record_event(services.db, source, event)
        # Practice threads live in DMs (message.im) and in public channels.
        hand_off_message(services, client, context, event)
