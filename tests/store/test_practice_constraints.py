from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import PracticeSession, SessionStatus


def _session(status: SessionStatus, thread_ts: str) -> PracticeSession:
    return PracticeSession(
        team_id="T1",
        user_id="U1",
        scenario_id="late-delivery",
        difficulty="upset",
        channel_id="D1",
        thread_ts=thread_ts,
        status=status,
        engine="offline",
        start_mood=65,
        mood=65,
    )


def test_a_person_has_at_most_one_active_session(database: Database) -> None:
    with database.session() as session:
        session.add(_session(SessionStatus.active, "1.0"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(_session(SessionStatus.active, "2.0"))


def test_ended_sessions_do_not_count_against_the_active_one(database: Database) -> None:
    with database.session() as session:
        session.add(_session(SessionStatus.ended, "1.0"))
        session.add(_session(SessionStatus.satisfied, "2.0"))
        session.add(_session(SessionStatus.active, "3.0"))
