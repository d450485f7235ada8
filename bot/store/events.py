"""Remembering which Slack event deliveries were already handled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.models import ProcessedEvent

# Slack retries a delivery three times within about five minutes; a day is a generous margin.
PROCESSED_EVENT_RETENTION = timedelta(days=1)


def claim_event(session: Session, team_id: str, event_id: str) -> bool:
    """Record an event id; False when it was recorded before (so this delivery is a retry).

    One INSERT … ON CONFLICT DO NOTHING, not an ORM add in a savepoint: every event's ack waits
    for it, and under load the ORM's unit of work was most of an ack's time."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claim = (
        dialect.insert(ProcessedEvent)
        .values(team_id=team_id, event_id=event_id)
        .on_conflict_do_nothing(index_elements=["team_id", "event_id"])
        .returning(ProcessedEvent.id)
    )
    return session.execute(claim).scalar() is not None


def release_event(session: Session, team_id: str, event_id: str) -> None:
    """Forget an event whose handling failed, so that Slack's retry of it is handled."""
    session.execute(
        delete(ProcessedEvent).where(
            ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id
        )
    )


def purge_processed_events(session: Session, now: datetime) -> int:
    cutoff = now - PROCESSED_EVENT_RETENTION
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
    return result.rowcount
