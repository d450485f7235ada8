from __future__ import annotations

from datetime import timedelta

from bot.store.base import utcnow
from bot.store.db import Database
from bot.store.events import claim_event, purge_processed_events
from bot.store.models import ProcessedEvent


def test_an_event_id_is_claimed_once_per_workspace(database: Database) -> None:
    with database.session() as session:
        assert claim_event(session, "T1", "Ev1") is True
    with database.session() as session:
        assert claim_event(session, "T1", "Ev1") is False
        assert claim_event(session, "T2", "Ev1") is True


def test_old_event_ids_are_purged(database: Database) -> None:
    now = utcnow()
    with database.session() as session:
        session.add(
            ProcessedEvent(team_id="T1", event_id="old", received_at=now - timedelta(days=2))
        )
        session.add(ProcessedEvent(team_id="T1", event_id="new", received_at=now))
    with database.session() as session:
        assert purge_processed_events(session, now) == 1
    with database.session() as session:
        assert claim_event(session, "T1", "old") is True
        assert claim_event(session, "T1", "new") is False
