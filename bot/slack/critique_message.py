"""Use case: critique a Slack message someone asked about, by the coaching reaction or the
message shortcut, and deliver it (a DM to the author, a thread reply, or the open modal).

Runs as a job, after the listener has acked. A retried job posts nothing twice: a requester who
already got the critique is skipped, and a stored critique is reused rather than recomputed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.critique import critique_message, critique_modal, notice_modal, texts
from bot.coaching.reviews import (
    Review,
    ReviewedMessage,
    ReviewState,
    mark_delivered,
    release_request,
    request_critique,
    review_state,
)
from bot.jobs.job import Job, Queue
from bot.services import Services
from bot.slack.errors import is_transient, slack_reason
from bot.slack.notices import tell
from bot.slack.reading import Unreviewable, read_message
from bot.store.models import CritiqueDelivery

logger = logging.getLogger(__name__)

HOURGLASS = "hourglass_flowing_sand"


@dataclass(frozen=True, kw_only=True)
class CritiqueAsked(Job):
    """`view_id` is set for the message shortcut: the modal that shows the critique."""

    task: ClassVar[str] = "critique_message"
    queue: ClassVar[Queue] = Queue.coaching

    team_id: str
    channel_id: str
    message_ts: str
    requester: str
    bot_user_id: str | None
    source: Literal["reaction", "shortcut"]
    asked_at: float  # epoch seconds: a critique waiting too long for the LLM is answered offline
    view_id: str | None = None

    def lock(self) -> str:
        # One requester's two quick reactions on a message are handled one after the other, so
        # the second sees the first's delivery and posts nothing.
        return f"critique:{self.team_id}:{self.channel_id}:{self.message_ts}:{self.requester}"


def deliver_critique(services: Services, asked: CritiqueAsked) -> None:
    client = services.slack(asked.team_id)
    state = review_state(
        services.db, asked.team_id, asked.channel_id, asked.message_ts, asked.requester
    )
    if asked.view_id is not None:
        _critique_in_modal(services, client, asked, state)
    else:
        _critique_on_reaction(services, client, asked, state)


def tell_critique_failed(services: Services, asked: CritiqueAsked, error: Exception) -> None:
    """The job gave up: the requester hears so rather than nothing."""
    client = services.slack(asked.team_id)
    failed = texts()["notes"]["failed"]
    if asked.view_id is not None:
        client.views_update(view_id=asked.view_id, view=notice_modal(failed))
    else:
        tell(client, asked.channel_id, asked.requester, failed)


def _critique_on_reaction(
    services: Services, client: WebClient, asked: CritiqueAsked, state: ReviewState
) -> None:
    if state.delivered_to_requester:
        return  # a reaction removed and added again, or this job retried
    channel, requester = asked.channel_id, asked.requester
    try:
        if not state.watched:
            raise Unreviewable("unwatched")
        message = read_message(client, asked.team_id, channel, asked.message_ts, asked.bot_user_id)
    except Unreviewable as problem:
        tell(client, channel, requester, texts()["notes"][problem.reason])
        return
    with _hourglass(client, channel, asked.message_ts):
        engine = services.critique_engine_for(
            asked.team_id, asked.requester, asked_at=asked.asked_at
        )
        review = request_critique(services.db, engine, message, requester, asked.source, state)
        _deliver(services, client, message, requester, state.delivery, review)


def _critique_in_modal(
    services: Services, client: WebClient, asked: CritiqueAsked, state: ReviewState
) -> None:
    try:
        message = read_message(
            client, asked.team_id, asked.channel_id, asked.message_ts, asked.bot_user_id
        )
    except Unreviewable as problem:
        client.views_update(
            view_id=asked.view_id, view=notice_modal(texts()["notes"][problem.reason])
        )
        return
    engine = services.critique_engine_for(asked.team_id, asked.requester, asked_at=asked.asked_at)
    review = request_critique(services.db, engine, message, asked.requester, asked.source, state)
    modal = critique_modal(review.critique, review.critique_id, review.truncated)
    client.views_update(view_id=asked.view_id, view=modal)
    mark_delivered(services.db, message.team_id, review.request_id)


def _deliver(
    services: Services,
    client: WebClient,
    message: ReviewedMessage,
    requester: str,
    delivery: CritiqueDelivery,
    review: Review,
) -> None:
    """DM the author (and tell someone else who asked), or reply in the thread."""
    author = message.author_user_id
    content = critique_message(
        review.critique,
        review.critique_id,
        author=author,
        requester=requester,
        truncated=review.truncated,
    )
    in_thread = delivery is CritiqueDelivery.thread_reply
    try:
        if in_thread:
            client.chat_postMessage(
                channel=message.channel_id, thread_ts=message.thread_ts, **content
            )
        else:
            client.chat_postMessage(channel=author, **content)
    except SlackApiError as error:
        if is_transient(error):
            raise  # rate limited or Slack unwell: the job is retried later
        logger.warning("could not deliver critique %s: %s", review.critique_id, slack_reason(error))
        release_request(services.db, message.team_id, review.request_id)
        tell(client, message.channel_id, requester, texts()["notes"]["delivery_failed"])
        return
    mark_delivered(services.db, message.team_id, review.request_id)
    if not in_thread and requester != author:
        note = texts()["notes"]["sent_to_author"].format(author=author)
        tell(client, message.channel_id, requester, note)


@contextmanager
def _hourglass(client: WebClient, channel: str, ts: str) -> Iterator[None]:
    """Show that the critique is on its way, and take the sign away when done."""
    _ignoring_reaction_errors(
        lambda: client.reactions_add(channel=channel, timestamp=ts, name=HOURGLASS)
    )
    try:
        yield
    finally:
        _ignoring_reaction_errors(
            lambda: client.reactions_remove(channel=channel, timestamp=ts, name=HOURGLASS)
        )


def _ignoring_reaction_errors(react: Callable[[], object]) -> None:
    try:
        react()
    except SlackApiError as error:
        # Already there (a second requester at the same time), already gone, or rate limited:
        # the sign is a courtesy, never a reason to fail the critique.
        logger.info("hourglass: %s", slack_reason(error))
