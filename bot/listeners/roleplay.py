"""Role-play practice in Slack: `/practice` (the picker), `/practice <scenario> [difficulty]
[here]`, `list`, `end`, `stats`; the picker's submission; the End and Try again buttons; and the
agent's replies in a practice thread, handed over by the one `message` listener.

Parse, ack, hand off: the posting is `bot.slack.practice`, the session `bot.coaching.practice`.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.help import help_message
from bot.blocks.practice import (
    DEFAULT_DIFFICULTY,
    END_ACTION,
    PICKER_CALLBACK,
    TRY_AGAIN_ACTION,
    picker_choice,
    picker_modal,
    scenario_list,
    stats_message,
    texts,
)
from bot.coaching.practice.mood import Difficulty
from bot.coaching.practice.scenarios import Family
from bot.services import Services
from bot.slack.practice import (
    dm_channel,
    end_session,
    play_reply,
    start_session,
    thread_link,
)
from bot.store.models import SessionStatus

if TYPE_CHECKING:
    from bot.listeners.commands import Invocation

Handler = Callable[["Invocation"], None]

HERE = "here"  # `/practice <scenario> here`: practise in a thread of the current channel
# Message subtypes that are a person's new message; edits, deletions and the like are not.
NEW_MESSAGE_SUBTYPES = {None, "file_share"}


def subcommands(services: Services) -> dict[str, Handler]:
    return {
        "start": lambda call: _start(services, call),
        "list": lambda call: call.ack(**scenario_list(services.practice.scenarios)),
        "end": lambda call: _end(services, call),
        "stats": lambda call: call.ack(
            **stats_message(services.practice.stats(call.context.team_id, call.command["user_id"]))
        ),
    }


def fallback(services: Services, name: str, subcommand_names: Iterable[str]) -> Handler:
    """`/practice <scenario> …` starts it; anything else gets the help and a close match."""
    scenario_ids = services.practice.scenarios.ids()
    if name in scenario_ids:
        return lambda call: _start_named(services, call, f"{name} {call.rest}")
    close = difflib.get_close_matches(name, [*subcommand_names, *scenario_ids], n=1, cutoff=0.6)
    suggestion = close[0] if close else None
    return lambda call: call.ack(**help_message(unknown_subcommand=name, suggestion=suggestion))


def register(app: App, services: Services) -> None:
    @app.view(PICKER_CALLBACK)
    def start_picked(
        ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
    ) -> None:
        # Ack first: asking Slack whether the bot is in the channel may wait out a rate limit.
        ack()
        choice = picker_choice(view)
        user_id = body["user"]["id"]
        if choice.in_channel and not _bot_is_member(client, choice.channel_id):
            # The modal is closed: say why in the DM.
            client.chat_postMessage(
                channel=dm_channel(client, user_id), text=texts()["cannot_post_here"]
            )
            return
        # Any of the family's variants: each practice meets a new industry and new facts.
        scenario_id = random.choice(_family_scenarios(services, choice.family))
        channel = choice.channel_id if choice.in_channel else dm_channel(client, user_id)
        answer = start_session(
            services.practice,
            client,
            context.team_id,
            user_id,
            scenario_id,
            choice.difficulty,
            channel,
        )
        if not answer.started:  # the modal is closed: say why in the DM
            client.chat_postMessage(channel=dm_channel(client, user_id), text=answer.text)

    @app.action(END_ACTION)
    def end_clicked(
        ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond
    ) -> None:
        ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        active = services.practice.active_session(team_id, user_id)
        if active is None or str(active.id) != action["value"]:
            respond(text=texts()["not_your_session"], replace_original=False)
            return
        respond(
            text=end_session(services.practice, client, team_id, user_id), replace_original=False
        )

    @app.action(TRY_AGAIN_ACTION)
    def try_again(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        scenario_id, difficulty = action["value"].split()
        answer = start_session(
            services.practice,
            client,
            body["team"]["id"],
            body["user"]["id"],
            scenario_id,
            Difficulty(difficulty),
            body["channel"]["id"],  # where the scorecard is: the same DM or channel
        )
        respond(text=answer.text, replace_original=False)


def hand_off_message(
    services: Services, client: WebClient, context: BoltContext, event: dict
) -> None:
    """A new message by the session's owner in an active practice thread is their reply.
    Everything else is ignored: the bot's own posts, edits, top-level messages, and other
    people writing in the thread (teammates may watch and chat)."""
    thread_ts = event.get("thread_ts")
    if event.get("bot_id") or event.get("subtype") not in NEW_MESSAGE_SUBTYPES:
        return
    if not thread_ts:
        if event.get("channel_type") == "im":
            _point_to_the_thread(services, client, context.team_id, event)
        return
    session = services.practice.find_by_thread(context.team_id, event["channel"], thread_ts)
    if session is None or session.status is not SessionStatus.active:
        return
    if event.get("user") == session.user_id:
        play_reply(services.practice, client, context.team_id, event)


def _point_to_the_thread(services: Services, client: WebClient, team_id: str, event: dict) -> None:
    """A top-level DM message while practising was most likely meant for the customer."""
    user_id = event.get("user")
    session = services.practice.active_session(team_id, user_id) if user_id else None
    if session is None or session.thread_ts is None:
        return
    link = thread_link(session.channel_id, session.thread_ts)
    client.chat_postEphemeral(
        channel=event["channel"], user=user_id, text=texts()["reply_in_thread"].format(link=link)
    )


def _start(services: Services, call: Invocation) -> None:
    """`/practice` alone opens the picker; with a scenario it starts at once."""
    if call.rest:
        _start_named(services, call, call.rest)
        return
    call.ack()
    channel_id = call.command["channel_id"]
    families = [family for family in Family if _family_scenarios(services, family)]
    view = picker_modal(families, channel_id, offer_channel=channel_id.startswith("C"))
    call.client.views_open(trigger_id=call.command["trigger_id"], view=view)


def _start_named(services: Services, call: Invocation, words: str) -> None:
    """`<scenario> [mild|upset|furious] [here]`."""
    scenario_id, *options = words.lower().split()
    in_channel = HERE in options
    levels = [word for word in options if word != HERE]
    if levels and levels[0] not in Difficulty.__members__:
        call.ack(text=texts()["unknown_difficulty"].format(requested=levels[0][:40]))
        return
    call.ack()
    user_id, channel_id = call.command["user_id"], call.command["channel_id"]
    if in_channel and not _bot_is_member(call.client, channel_id):
        call.respond(text=texts()["cannot_post_here"])
        return
    answer = start_session(
        services.practice,
        call.client,
        call.context.team_id,
        user_id,
        scenario_id,
        Difficulty(levels[0]) if levels else DEFAULT_DIFFICULTY,
        channel_id if in_channel else dm_channel(call.client, user_id),
    )
    call.respond(text=answer.text)


def _end(services: Services, call: Invocation) -> None:
    call.ack()
    team_id, user_id = call.context.team_id, call.command["user_id"]
    call.respond(text=end_session(services.practice, call.client, team_id, user_id))


def _family_scenarios(services: Services, family: Family) -> list[str]:
    return [s.id for s in services.practice.scenarios.scenarios.values() if s.family == family]


def _bot_is_member(client: WebClient, channel_id: str) -> bool:
    """Whether the bot may post in the (public) channel: it does not join by itself."""
    if not channel_id.startswith("C"):
        return False
    try:
        return bool(client.conversations_info(channel=channel_id)["channel"].get("is_member"))
    except SlackApiError:
        return False
