"""Critiques asked for in Slack, over the database: one per message, delivered once per requester.

Slack-free: callers pass plain values (ids, the message text they fetched) and get plain values
back. A message's critique is computed once and stored with its scores; the full result (tips,
evidence quotes, rewrite) and the reply text hold fragments of the message, so they are stored
only when the workspace allows storing reply text. Otherwise a later requester gets the critique
recomputed from the message fetched again.

A request reads everything it needs in one transaction (`review_state`), runs the engine, which
may call a model, outside any transaction, and records the critique and the request in a second;
delivery is marked in a third. The unique constraints on critiques and critique requests settle
concurrent requests (a retried job, two requesters at once) without locking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.coaching.critique import (
    MAX_REPLY_CHARS,
    Critique,
    CritiqueEngine,
    CritiqueRequest,
)
from bot.metrics import CRITIQUES
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.models import Critique as CritiqueRow
from bot.store.models import CritiqueDelivery, CritiqueFeedback, FeedbackKind
from bot.store.models import CritiqueRequest as RequestRow
from bot.store.workspaces import channel_settings, workspace_of

RATINGS = (FeedbackKind.useful, FeedbackKind.not_useful)


@dataclass(frozen=True)
class ReviewedMessage:
    """A Slack message to critique, with the customer message(s) it answers. `thread_ts`: the
    thread a reply about it belongs in."""

    team_id: str
    channel_id: str
    message_ts: str
    author_user_id: str | None
    text: str
    customer_messages: tuple[str, ...] = ()
    thread_ts: str | None = None


@dataclass(frozen=True)
class Review:
    """A stored critique as one requester gets it. `first_for_requester` is False when this
    requester had already asked for it: it must not be delivered again. `truncated`: only the
    first MAX_REPLY_CHARS characters of the message were critiqued."""

    critique_id: int
    request_id: int
    critique: Critique
    first_for_requester: bool
    truncated: bool = False


@dataclass(frozen=True)
class DraftCheck:
    critique: Critique
    truncated: bool


@dataclass(frozen=True)
class ReviewState:
    """What the database knows of a message's critique before Slack is asked anything, read in
    one transaction: whether its channel is watched and where critiques go, whether reply text
    may be stored, the stored critique (when it was), and whether this requester already got it."""

    watched: bool
    delivery: CritiqueDelivery
    store_reply_text: bool
    stored: Critique | None
    delivered_to_requester: bool


def review_state(
    db: Database, team_id: str, channel_id: str, message_ts: str, requester_user_id: str
) -> ReviewState:
    with db.session() as session:
        channel = channel_settings(session, team_id, channel_id)
        row = _critique_row(session, team_id, channel_id, message_ts)
        request = None if row is None else _request_row(session, row.id, requester_user_id)
        stored = None if row is None or row.result is None else row.result
        return ReviewState(
            watched=channel is not None and channel.watched,
            delivery=CritiqueDelivery.direct_message
            if channel is None
            else channel.critique_delivery,
            store_reply_text=workspace_of(session, team_id).store_reply_text,
            stored=None if stored is None else Critique.model_validate(stored),
            delivered_to_requester=request is not None and request.delivered_at is not None,
        )


def request_critique(
    db: Database,
    engine: CritiqueEngine,
    message: ReviewedMessage,
    requester_user_id: str,
    source: str,
    state: ReviewState,
) -> Review:
    """The message's critique (the stored one, else computed: the engine runs outside any
    transaction) and the record of who asked for it, in one more transaction. Only the first
    MAX_REPLY_CHARS characters are critiqued (and stored, when text is stored)."""
    truncated = len(message.text) > MAX_REPLY_CHARS
    message = replace(message, text=message.text[:MAX_REPLY_CHARS])
    critique = state.stored or _computed(
        engine, _engine_request(message.text, message.customer_messages), source
    )
    with db.session() as session:
        critique_id = _store_critique(session, message, critique, state.store_reply_text)
        request_id, first = _claim_request(
            session, message.team_id, critique_id, requester_user_id, source
        )
    return Review(critique_id, request_id, critique, first, truncated)


def mark_delivered(db: Database, team_id: str, request_id: int) -> None:
    with db.session() as session:
        session.execute(
            update(RequestRow)
            .where(RequestRow.id == request_id, RequestRow.team_id == team_id)
            .values(delivered_at=utcnow())
        )


def release_request(db: Database, team_id: str, request_id: int) -> None:
    """Forget a request whose delivery failed, so asking again is a first request."""
    with db.session() as session:
        session.execute(
            delete(RequestRow).where(RequestRow.id == request_id, RequestRow.team_id == team_id)
        )


def check_draft(engine: CritiqueEngine, draft: str) -> DraftCheck:
    """Critique a reply before it is sent; nothing is stored."""
    shown = draft[:MAX_REPLY_CHARS]
    critique = _computed(engine, _engine_request(shown, ()), "draft")
    return DraftCheck(critique, len(draft) > MAX_REPLY_CHARS)


def record_rating(
    db: Database, team_id: str, critique_id: int, user_id: str, kind: FeedbackKind
) -> bool:
    """Store "useful" or "not useful"; False when this user already rated this critique (or it
    is not this workspace's)."""
    with db.session() as session:
        if not _lock_team_critique(session, team_id, critique_id):
            return False
        already = session.scalar(
            select(CritiqueFeedback.id).where(
                CritiqueFeedback.critique_id == critique_id,
                CritiqueFeedback.user_id == user_id,
                CritiqueFeedback.kind.in_(RATINGS),
            )
        )
        if already is not None:
            return False
        session.add(
            CritiqueFeedback(team_id=team_id, critique_id=critique_id, user_id=user_id, kind=kind)
        )
        return True


def record_dispute(
    db: Database, team_id: str, critique_id: int, user_id: str, comment: str
) -> bool:
    """Store a dispute for the team lead to review; False when the critique is not this
    workspace's."""
    with db.session() as session:
        if not _lock_team_critique(session, team_id, critique_id):
            return False
        session.add(
            CritiqueFeedback(
                team_id=team_id,
                critique_id=critique_id,
                user_id=user_id,
                kind=FeedbackKind.dispute,
                comment=comment.strip() or None,
            )
        )
        return True


def _computed(engine: CritiqueEngine, request: CritiqueRequest, source: str) -> Critique:
    critique = engine.critique(request)
    CRITIQUES.labels(engine=critique.engine.value, source=source).inc()
    return critique


def _engine_request(text: str, customer_messages: tuple[str, ...]) -> CritiqueRequest:
    return CritiqueRequest(agent_reply=text, customer_message=list(customer_messages) or None)


def _critique_row(
    session: Session, team_id: str, channel_id: str, message_ts: str
) -> CritiqueRow | None:
    return session.scalar(
        select(CritiqueRow).where(
            CritiqueRow.team_id == team_id,
            CritiqueRow.channel_id == channel_id,
            CritiqueRow.message_ts == message_ts,
        )
    )


def _lock_team_critique(session: Session, team_id: str, critique_id: int) -> bool:
    """Whether the critique is this workspace's, locking it for the rest of the transaction: a
    no-op write as the first statement takes the row lock on PostgreSQL and the write lock on
    SQLite, so two quick clicks are rated one after the other."""
    touched = session.execute(
        update(CritiqueRow)
        .where(CritiqueRow.id == critique_id, CritiqueRow.team_id == team_id)
        .values(overall=CritiqueRow.overall)
    )
    return touched.rowcount == 1


def _request_row(session: Session, critique_id: int, requester_user_id: str) -> RequestRow | None:
    return session.scalar(
        select(RequestRow).where(
            RequestRow.critique_id == critique_id,
            RequestRow.requester_user_id == requester_user_id,
        )
    )


def _store_critique(
    session: Session, message: ReviewedMessage, critique: Critique, store_text: bool
) -> int:
    """The id of the message's critique row, inserting it unless a concurrent request did."""
    row = CritiqueRow(
        team_id=message.team_id,
        channel_id=message.channel_id,
        message_ts=message.message_ts,
        author_user_id=message.author_user_id,
        engine=critique.engine.value,
        trigger_count=len(critique.triggers),
        overall=critique.overall,
        result=critique.model_dump(mode="json") if store_text else None,
        reply_text=message.text if store_text else None,
        **critique.scores(),
    )
    try:
        with session.begin_nested():
            session.add(row)
        return row.id
    except IntegrityError:
        existing = _critique_row(session, message.team_id, message.channel_id, message.message_ts)
        assert existing is not None  # the insert lost to it
        return existing.id


def _claim_request(
    session: Session, team_id: str, critique_id: int, requester_user_id: str, source: str
) -> tuple[int, bool]:
    """(request id, whether this call created it)."""
    existing = _request_row(session, critique_id, requester_user_id)
    if existing is not None:
        return existing.id, False
    row = RequestRow(
        team_id=team_id,
        critique_id=critique_id,
        requester_user_id=requester_user_id,
        source=source,
    )
    try:
        with session.begin_nested():
            session.add(row)
        return row.id, True
    except IntegrityError:
        raced = _request_row(session, critique_id, requester_user_id)
        assert raced is not None
        return raced.id, False
