"""Events API listeners: parse, record, hand off. Each returns within milliseconds (the 200 goes
to Slack after it): message metadata and team changes are recorded here, every Slack call and
every critique is a job."""

from __future__ import annotations

import time

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.blocks.help import mention_reply
from bot.blocks.practice import ended_session_message
from bot.blocks.practice import texts as practice_texts
from bot.jobs.housekeeping import WorkspaceGone
from bot.services import Services
from bot.slack.channel_messages import Source, record_event
from bot.slack.critique_message import CritiqueAsked
from bot.slack.home import HomeOpened
from bot.slack.notices import Notice
from bot.slack.practice_threads import session_link
from bot.slack.practice_turn import PracticeTurnAsked
from bot.store.models import SessionStatus
from bot.store.workspaces import coaching_emoji, follow_group_change

# Where support conversations happen: public channels (message.channels in the manifest).
WATCHABLE_CHANNEL_TYPES = {"channel"}
# Message subtypes that are a person's new message; edits, deletions and the like are not.
NEW_MESSAGE_SUBTYPES = {None, "file_share"}


def register(app: App, services: Services) -> None:
    @app.event("reaction_added")
    def critique_on_reaction(event: dict, context: BoltContext) -> None:
        item = event.get("item", {})
        emoji = event.get("reaction", "").split("::")[0]  # "teacher::skin-tone-2" is teacher
        if item.get("type") != "message":
            return
        with services.db.session() as session:
            if emoji != coaching_emoji(session, context.team_id):
                return
        services.enqueue(
            CritiqueAsked(
                team_id=context.team_id,
                channel_id=item["channel"],
                message_ts=item["ts"],
                requester=event["user"],
                bot_user_id=context.bot_user_id,
                source="reaction",
                asked_at=time.time(),
            )
        )

    @app.event("app_mention")
    def point_to_help(event: dict, context: BoltContext) -> None:
        services.enqueue(
            Notice(
                team_id=context.team_id,
                channel_id=event["channel"],
                thread_ts=event.get("thread_ts") or event["ts"],
                message={"text": mention_reply(event["user"])},
            )
        )

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

    # Uninstalled: every row the bot holds for the workspace goes, its tokens first of all.
    @app.event("app_uninstalled")
    def forget_the_workspace(context: BoltContext) -> None:
        services.enqueue(WorkspaceGone(team_id=context.team_id))

    revoked = TokenRevocationListeners(app.installation_store) if app.installation_store else None

    @app.event("tokens_revoked")
    def forget_revoked_tokens(event: dict, context: BoltContext) -> None:
        if revoked is not None:  # a single-workspace install stores no tokens
            revoked.handle_tokens_revoked_events(event, context)

    @app.event("app_home_opened")
    def publish_home(event: dict, context: BoltContext) -> None:
        # The same event comes for the Messages tab, which has nothing to publish.
        if event.get("tab") == "home":
            services.enqueue(HomeOpened(team_id=context.team_id, user_id=event["user"]))

    # Bolt runs only the first listener matching a request, so this is the one `message`
    # listener: it dispatches by where the message was posted.
    @app.event("message")
    def on_message(event: dict, context: BoltContext) -> None:
        if event.get("channel_type") in WATCHABLE_CHANNEL_TYPES:
            source = Source(context.team_id, event["channel"], context.bot_user_id, context.bot_id)
            record_event(services.db, source, event)
        # Practice threads live in DMs (message.im) and in public channels.
        _hand_off_practice_reply(services, context.team_id, event)


def _hand_off_practice_reply(services: Services, team_id: str, event: dict) -> None:
    """A new message by the session's owner in a practice thread is their reply. Everything else
    is ignored: the bot's own posts, edits, and other people writing in the thread (teammates may
    watch and chat)."""
    thread_ts = event.get("thread_ts")
    if event.get("bot_id") or event.get("subtype") not in NEW_MESSAGE_SUBTYPES:
        return
    if not thread_ts:
        if event.get("channel_type") == "im":
            _point_to_the_thread(services, team_id, event)
        return
    session = services.practice.find_by_thread(team_id, event["channel"], thread_ts)
    if session is None or event.get("user") != session.user_id:
        return
    if session.status is not SessionStatus.active:
        services.enqueue(
            Notice(
                team_id=team_id,
                channel_id=event["channel"],
                user_id=session.user_id,
                thread_ts=thread_ts,
                message=ended_session_message(session.scenario_id, session.difficulty),
            )
        )
        return
    services.enqueue(
        PracticeTurnAsked(
            team_id=team_id,
            user_id=session.user_id,
            channel_id=event["channel"],
            thread_ts=thread_ts,
            message_ts=event["ts"],
            text=event.get("text") or "",
            asked_at=time.time(),
        )
    )


def _point_to_the_thread(services: Services, team_id: str, event: dict) -> None:
    """A top-level DM message while practising was most likely meant for the customer."""
    user_id = event.get("user")
    session = services.practice.active_session(team_id, user_id) if user_id else None
    if session is None or session.thread_ts is None:
        return
    text = practice_texts()["reply_in_thread"].format(link=session_link(session))
    services.enqueue(
        Notice(
            team_id=team_id,
            channel_id=event["channel"],
            user_id=user_id,
            message={"text": text},
        )
    )
