"""Recording the metadata of support-channel messages, never their text.

The channel listener calls these with plain values from Slack's message events. Slack redelivers
events it thinks failed, so every call is idempotent: the unique (team, channel, ts) row is
inserted once and later calls only add what is new (an edit, a deletion).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import AuthorKind, ChannelMessage, Workspace


def posted_at_of(ts: str) -> datetime:
    """A Slack message ts ("1700000000.000100") is the epoch time it was posted."""
    seconds, _, micros = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), UTC).replace(
        microsecond=int(micros[:6].ljust(6, "0"))
    )


def author_kind(workspace: Workspace, user_id: str | None, *, is_bot: bool) -> AuthorKind:
    """Team members are the team; everyone else, external users included, is a customer. Bots
    (ticket integrations…) are customers unless the workspace says otherwise."""
    if is_bot:
        return AuthorKind.customer if workspace.bots_count_as_customers else AuthorKind.bot
    return AuthorKind.team if user_id in workspace.team_user_ids else AuthorKind.customer


def record_message(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    ts: str,
    thread_ts: str | None,
    user_id: str | None,
    author_kind: AuthorKind,
    edited_at: datetime | None = None,
    deleted_at: datetime | None = None,
) -> bool:
    """Record a message (thread_ts None = a thread root); True when it was not known before.

    For a message already recorded only the edit and deletion times are updated: who posted it
    and where does not change in Slack.
    """
    existing = _find(session, team_id, channel_id, ts)
    if existing is None:
        row = ChannelMessage(
            team_id=team_id,
            channel_id=channel_id,
            ts=ts,
            thread_ts=thread_ts or ts,
            user_id=user_id,
            author_kind=author_kind,
            posted_at=posted_at_of(ts),
            edited_at=edited_at,
            deleted_at=deleted_at,
        )
        try:
            with session.begin_nested():
                session.add(row)
            return True
        except IntegrityError:
            # Another worker recorded the same redelivered event a moment ago.
            existing = _find(session, team_id, channel_id, ts)
            assert existing is not None
    _note_changes(existing, edited_at, deleted_at)
    return False


def mark_deleted(
    session: Session, *, team_id: str, channel_id: str, ts: str, deleted_at: datetime
) -> bool:
    """Note that a message was deleted; False when it was never recorded (nothing to do)."""
    existing = _find(session, team_id, channel_id, ts)
    if existing is None:
        return False
    _note_changes(existing, edited_at=None, deleted_at=deleted_at)
    return True


def _find(session: Session, team_id: str, channel_id: str, ts: str) -> ChannelMessage | None:
    return session.scalar(
        select(ChannelMessage).where(
            ChannelMessage.team_id == team_id,
            ChannelMessage.channel_id == channel_id,
            ChannelMessage.ts == ts,
        )
    )


def _note_changes(
    row: ChannelMessage, edited_at: datetime | None, deleted_at: datetime | None
) -> None:
    # Keep the latest edit but the first deletion: a redelivered deletion changes nothing.
    if edited_at is not None and (row.edited_at is None or edited_at > row.edited_at):
        row.edited_at = edited_at
    if deleted_at is not None and row.deleted_at is None:
        row.deleted_at = deleted_at
