"""Tables of asap-coach. Every row belongs to one workspace (`team_id`); every query filters on it.

Support-channel messages are kept as metadata only (ids, author, thread, timestamps): the bot
measures how customers were treated without keeping transcripts.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.store import slack_tables  # noqa: F401  (registers slack_sdk's tables on Base.metadata)
from bot.store.base import Base, UTCDateTime, utcnow

SLACK_ID = 32  # Slack ids (T…, C…, U…) are short; leave room for enterprise-grid forms
SLACK_TS = 32  # "1700000000.000100"


def _str_enum(enum: type[StrEnum]) -> Enum:
    """Store a StrEnum by value as plain text, portable across SQLite and PostgreSQL."""
    return Enum(
        enum,
        native_enum=False,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class CritiqueDelivery(StrEnum):
    direct_message = "dm"
    thread_reply = "thread"


class AuthorKind(StrEnum):
    customer = "customer"
    team = "team"
    bot = "bot"


class SessionStatus(StrEnum):
    active = "active"
    satisfied = "satisfied"
    gave_up = "gave_up"
    ended = "ended"
    turn_limit = "turn_limit"
    timed_out = "timed_out"


class TurnRole(StrEnum):
    customer = "customer"
    agent = "agent"


class FeedbackKind(StrEnum):
    useful = "useful"
    not_useful = "not_useful"
    dispute = "dispute"


class DisputeResolution(StrEnum):
    agreed = "agreed"  # the lead corrected the scores: the reply is a labelled example
    disagreed = "disagreed"  # the scores stand; the agent was told why


class LlmKind(StrEnum):
    """What an LLM call was for."""

    critique = "critique"
    persona = "persona"  # the practice customer's words


class DeliveryStatus(StrEnum):
    claimed = "claimed"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"


class Workspace(Base):
    """Per-workspace settings that a team lead changes."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    team_name: Mapped[str | None] = mapped_column(String(255))
    coaching_emoji: Mapped[str] = mapped_column(String(64), default="teacher")
    store_reply_text: Mapped[bool] = mapped_column(Boolean, default=False)
    team_usergroup_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    team_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    admin_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    bots_count_as_customers: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ChannelSettings(Base):
    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    watched: Mapped[bool] = mapped_column(Boolean, default=False)
    watched_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    critique_delivery: Mapped[CritiqueDelivery] = mapped_column(
        _str_enum(CritiqueDelivery), default=CritiqueDelivery.direct_message
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PracticeSession(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "thread_ts"),
        Index(None, "team_id", "user_id", "status"),
        # One active session per person: two quick /practice commands cannot both start one.
        Index(
            "uq_practice_sessions_one_active",
            "team_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    scenario_id: Mapped[str] = mapped_column(String(128))
    difficulty: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    thread_ts: Mapped[str | None] = mapped_column(String(SLACK_TS))
    status: Mapped[SessionStatus] = mapped_column(
        _str_enum(SessionStatus), default=SessionStatus.active
    )
    engine: Mapped[str] = mapped_column(String(32))
    start_mood: Mapped[int] = mapped_column(SmallInteger)
    mood: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scorecard: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the scorecard was posted in the thread, or found impossible to post: until then the
    # practice tick sees to it (a job that posts it may have been lost).
    scorecard_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    turns: Mapped[list[PracticeTurn]] = relationship(
        back_populates="session", order_by="PracticeTurn.position", cascade="all, delete-orphan"
    )


class PracticeTurn(Base):
    """One message of a practice conversation: practice text is the agent's own, so it is kept."""

    __tablename__ = "practice_turns"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[TurnRole] = mapped_column(_str_enum(TurnRole))
    text: Mapped[str] = mapped_column(Text)
    mood_after: Mapped[int] = mapped_column(SmallInteger)
    step_scores: Mapped[dict[str, int] | None] = mapped_column(JSON)
    slack_ts: Mapped[str | None] = mapped_column(String(SLACK_TS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[PracticeSession] = relationship(back_populates="turns")


class Critique(Base):
    """A critique of one message, computed once and delivered to everyone who asks for it."""

    __tablename__ = "critiques"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts"),
        Index(None, "team_id", "author_user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    message_ts: Mapped[str] = mapped_column(String(SLACK_TS))
    author_user_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    engine: Mapped[str] = mapped_column(String(32))
    apologize: Mapped[int] = mapped_column(SmallInteger)
    sympathize: Mapped[int] = mapped_column(SmallInteger)
    responsibility: Mapped[int] = mapped_column(SmallInteger)
    act: Mapped[int] = mapped_column(SmallInteger)
    trigger_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    overall: Mapped[int] = mapped_column(SmallInteger)
    # The full critique (tips, evidence, rewrite) holds fragments of the reply, and the reply
    # itself: both only when the workspace allows storing reply text.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CritiqueRequest(Base):
    """Who asked for a critique, so each requester gets exactly one delivery."""

    __tablename__ = "critique_requests"
    __table_args__ = (UniqueConstraint("critique_id", "requester_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    critique_id: Mapped[int] = mapped_column(ForeignKey("critiques.id", ondelete="CASCADE"))
    requester_user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    source: Mapped[str] = mapped_column(String(16))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CritiqueFeedback(Base):
    """ "Useful", "not useful" and disputes: how a team calibrates the rubric."""

    __tablename__ = "critique_feedback"
    __table_args__ = (Index(None, "team_id", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    critique_id: Mapped[int] = mapped_column(ForeignKey("critiques.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    kind: Mapped[FeedbackKind] = mapped_column(_str_enum(FeedbackKind))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A dispute, once an admin resolved it: agreed (with the levels they set, the reply's
    # labels for calibration) or disagreed (with why). `told_at`: the disputer was told.
    resolution: Mapped[DisputeResolution | None] = mapped_column(_str_enum(DisputeResolution))
    resolved_by: Mapped[str | None] = mapped_column(String(SLACK_ID))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, int] | None] = mapped_column(JSON)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoringCalibration(Base):
    """A workspace's calibration of the offline scoring layer (`asap-coach calibrate --team`)."""

    __tablename__ = "scoring_calibrations"

    team_id: Mapped[str] = mapped_column(String(SLACK_ID), primary_key=True)
    calibration: Mapped[dict[str, Any]] = mapped_column(JSON)
    labels: Mapped[int] = mapped_column(Integer)  # how many labelled replies it was fitted on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderSchedule(Base):
    __tablename__ = "reminder_schedules"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    local_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    # ISO weekday numbers, Monday = 1 … Sunday = 7
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    skip_quiet_days: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReminderDelivery(Base):
    """The delivery log: at most one row per schedule and local date is what makes it once."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("schedule_id", "local_date"),
        Index(None, "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_schedules.id", ondelete="CASCADE")
    )
    local_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[DeliveryStatus] = mapped_column(_str_enum(DeliveryStatus))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    tip_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(SLACK_TS))
    error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    """Event ids already handled: Slack retries a delivery it thinks failed, with the same id."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("team_id", "event_id"), Index(None, "received_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    event_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelMessage(Base):
    """Metadata of one message in a watched support channel: never its text."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "ts"),
        Index(None, "team_id", "channel_id", "thread_ts"),
        Index(None, "team_id", "channel_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    ts: Mapped[str] = mapped_column(String(SLACK_TS))
    thread_ts: Mapped[str] = mapped_column(String(SLACK_TS))
    user_id: Mapped[str | None] = mapped_column(String(SLACK_ID))
    author_kind: Mapped[AuthorKind] = mapped_column(_str_enum(AuthorKind))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LlmUse(Base):
    """One LLM call made for a person of a workspace, and its tokens (never any text): what the
    hourly limit per person and the workspace's monthly token budget count."""

    __tablename__ = "llm_uses"
    __table_args__ = (
        Index(None, "team_id", "created_at"),
        Index(None, "team_id", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    kind: Mapped[LlmKind] = mapped_column(_str_enum(LlmKind))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
