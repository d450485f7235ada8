"""Disputed critiques, resolved by an admin, and the agreed ones as calibration labels.

A dispute is someone saying that a critique got their reply wrong. An admin resolves it once,
and the first decision stands:

- **agreed**: the admin sets the level of each step and whether the reply holds an inflaming
  wording. The critique's stored step scores become those levels (what the Home tab, the daily
  reminder's step to work on and the trends read), and the levels are kept with the dispute: a
  labelled example for `asap-coach calibrate`, exported when the reply's text is stored. The
  full critique as it was delivered (evidence, tips) stays the engine's record.
- **disagreed**: the scores stand and the disputer is told why.

Slack-free: callers pass ids and plain values. Every query is scoped by the workspace.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from bot.coaching.critique import STEPS
from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.models import Critique, CritiqueFeedback, DisputeResolution, FeedbackKind

SHOWN_OPEN = 10
SHOWN_RESOLVED = 5
LABEL_ID = "dispute-{id}"  # the `id` of an exported label line


@dataclass(frozen=True)
class Levels:
    """An admin's labels of one reply: each step 0 (missing), 1 (partial) or 2 (done), and
    trigger 1 when it holds an inflaming wording, in the `eval` format's field names."""

    apologize: int
    sympathize: int
    responsibility: int
    act: int
    trigger: int

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            top = 1 if name == "trigger" else 2
            if type(value) is not int or not 0 <= value <= top:
                raise ValueError(f"{name} must be an integer from 0 to {top}, not {value!r}")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Levels:
        return cls(**{name: data[name] for name in (*STEPS, "trigger")})

    def steps(self) -> dict[str, int]:
        return {step: getattr(self, step) for step in STEPS}


@dataclass(frozen=True)
class Dispute:
    """A dispute with what a lead needs to judge it: the message it is about, the critique's
    stored scores, the reply's words (None unless the workspace stores reply text)."""

    id: int
    user_id: str  # who disputed, and is told of the outcome
    comment: str | None
    created_at: datetime
    channel_id: str
    message_ts: str
    scores: dict[str, int]
    has_trigger: bool
    reply_text: str | None
    resolution: DisputeResolution | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    labels: Levels | None = None
    told: bool = False


@dataclass(frozen=True)
class DisputeOverview:
    """What an admin's Home tab shows: the newest open disputes (of `waiting` in all), the
    latest resolved ones, and how many were resolved each way."""

    open: tuple[Dispute, ...]
    resolved: tuple[Dispute, ...]
    counts: dict[DisputeResolution, int]
    waiting: int


def find_dispute(db: Database, team_id: str, dispute_id: int) -> Dispute | None:
    with db.session() as session:
        return _dispute(session, team_id, dispute_id)


def dispute_overview(session: Session, team_id: str) -> DisputeOverview:
    open_rows = _rows(team_id).where(CritiqueFeedback.resolution.is_(None))
    resolved_rows = _rows(team_id).where(CritiqueFeedback.resolution.is_not(None))
    counts = Counter(
        session.scalars(
            select(CritiqueFeedback.resolution).where(
                CritiqueFeedback.team_id == team_id, CritiqueFeedback.kind == FeedbackKind.dispute
            )
        )
    )
    return DisputeOverview(
        open=_disputes(
            session, open_rows.order_by(CritiqueFeedback.created_at.desc()).limit(SHOWN_OPEN)
        ),
        resolved=_disputes(
            session,
            resolved_rows.order_by(CritiqueFeedback.resolved_at.desc()).limit(SHOWN_RESOLVED),
        ),
        counts={resolution: counts[resolution] for resolution in DisputeResolution},
        waiting=counts[None],
    )


def agree(
    db: Database, team_id: str, dispute_id: int, admin_id: str, levels: Levels
) -> Dispute | None:
    """Resolve the dispute as agreed, correcting the critique's scores, unless it was already
    resolved; the dispute as it now stands (None when it is not this workspace's)."""
    with db.session() as session:
        claimed = _resolve(
            session,
            team_id,
            dispute_id,
            resolution=DisputeResolution.agreed,
            resolved_by=admin_id,
            labels=asdict(levels),
        )
        if claimed:
            disputed = select(CritiqueFeedback.critique_id).where(CritiqueFeedback.id == dispute_id)
            session.execute(
                update(Critique)
                .where(Critique.team_id == team_id, Critique.id == disputed.scalar_subquery())
                .values(**levels.steps())
            )
        return _dispute(session, team_id, dispute_id)


def disagree(
    db: Database, team_id: str, dispute_id: int, admin_id: str, reason: str
) -> Dispute | None:
    """Resolve the dispute as disagreed, with the admin's reason, unless it was already
    resolved; the dispute as it now stands (None when it is not this workspace's)."""
    with db.session() as session:
        _resolve(
            session,
            team_id,
            dispute_id,
            resolution=DisputeResolution.disagreed,
            resolved_by=admin_id,
            resolution_note=reason.strip(),
        )
        return _dispute(session, team_id, dispute_id)


def mark_told(db: Database, team_id: str, dispute_id: int) -> None:
    """The disputer was told of the outcome: a retried job does not tell them twice."""
    with db.session() as session:
        session.execute(
            update(CritiqueFeedback)
            .where(CritiqueFeedback.team_id == team_id, CritiqueFeedback.id == dispute_id)
            .values(told_at=utcnow())
        )


@dataclass(frozen=True)
class LabelExport:
    """Agreed disputes as lines of the `eval`/`calibrate` input format, one per critiqued reply
    (the latest agreement wins), and how many agreed replies could not be exported because
    their text is not stored."""

    lines: list[dict[str, Any]]
    without_text: int


def exported_labels(db: Database, team_id: str) -> LabelExport:
    with db.session() as session:
        rows = session.execute(
            select(CritiqueFeedback.id, CritiqueFeedback.labels, Critique.id, Critique.reply_text)
            .join(Critique, CritiqueFeedback.critique_id == Critique.id)
            .where(
                CritiqueFeedback.team_id == team_id,
                Critique.team_id == team_id,
                CritiqueFeedback.kind == FeedbackKind.dispute,
                CritiqueFeedback.resolution == DisputeResolution.agreed,
            )
            .order_by(CritiqueFeedback.resolved_at, CritiqueFeedback.id)
        ).all()
    latest = {
        critique_id: (dispute_id, labels, text) for dispute_id, labels, critique_id, text in rows
    }
    lines, without_text = [], 0
    for dispute_id, labels, text in latest.values():
        if not text:
            without_text += 1
            continue
        lines.append({"id": LABEL_ID.format(id=dispute_id), "agent_reply": text, **labels})
    return LabelExport(lines, without_text)


def _rows(team_id: str) -> Select:
    return (
        select(CritiqueFeedback, Critique)
        .join(Critique, CritiqueFeedback.critique_id == Critique.id)
        .where(
            CritiqueFeedback.team_id == team_id,
            Critique.team_id == team_id,
            CritiqueFeedback.kind == FeedbackKind.dispute,
        )
    )


def _dispute(session: Session, team_id: str, dispute_id: int) -> Dispute | None:
    found = _disputes(session, _rows(team_id).where(CritiqueFeedback.id == dispute_id))
    return found[0] if found else None


def _disputes(session: Session, statement: Select) -> tuple[Dispute, ...]:
    return tuple(
        _from_rows(feedback, critique) for feedback, critique in session.execute(statement)
    )


def _from_rows(feedback: CritiqueFeedback, critique: Critique) -> Dispute:
    return Dispute(
        id=feedback.id,
        user_id=feedback.user_id,
        comment=feedback.comment,
        created_at=feedback.created_at,
        channel_id=critique.channel_id,
        message_ts=critique.message_ts,
        scores={step: getattr(critique, step) for step in STEPS},
        has_trigger=critique.trigger_count > 0,
        reply_text=critique.reply_text,
        resolution=feedback.resolution,
        resolved_by=feedback.resolved_by,
        resolved_at=feedback.resolved_at,
        resolution_note=feedback.resolution_note,
        labels=Levels.from_data(feedback.labels) if feedback.labels else None,
        told=feedback.told_at is not None,
    )


def _resolve(session: Session, team_id: str, dispute_id: int, **values: Any) -> bool:
    """Record the resolution unless the dispute already has one: whether this call did. The
    guarded update settles two admins (or a double click) resolving at once."""
    touched = session.execute(
        update(CritiqueFeedback)
        .where(
            CritiqueFeedback.team_id == team_id,
            CritiqueFeedback.id == dispute_id,
            CritiqueFeedback.kind == FeedbackKind.dispute,
            CritiqueFeedback.resolution.is_(None),
        )
        .values(resolved_at=utcnow(), **values)
    )
    return touched.rowcount == 1
