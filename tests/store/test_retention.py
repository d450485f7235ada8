"""What the bot forgets: text and metadata past the retention period, and a whole workspace."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.store.db import Database
from bot.store.models import (
    AuthorKind,
    ChannelMessage,
    ChannelSettings,
    Critique,
    CritiqueFeedback,
    DisputeResolution,
    FeedbackKind,
    PracticeSession,
    PracticeTurn,
    SessionStatus,
    TurnRole,
    Workspace,
)
from bot.store.retention import purge_expired, purge_workspace

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=120), NOW - timedelta(days=3)
CUTOFF = NOW - timedelta(days=90)


def _fill(database: Database, team_id: str, at: datetime, tag: str) -> None:
    """One of everything the bot stores, written at `at`."""
    with database.session() as session:
        session.add(Workspace(team_id=team_id, team_user_ids=[], admin_user_ids=[]))
        session.add(ChannelSettings(team_id=team_id, channel_id="C1", watched=True))
        critique = Critique(
            team_id=team_id,
            channel_id="C1",
            message_ts=f"{tag}.1",
            author_user_id="U1",
            engine="offline",
            apologize=2,
            sympathize=1,
            responsibility=1,
            act=2,
            trigger_count=0,
            overall=70,
            result={"summary": "quotes the reply"},
            reply_text="I'm so sorry about your order.",
            created_at=at,
        )
        session.add(critique)
        session.flush()
        session.add(
            CritiqueFeedback(
                team_id=team_id,
                critique_id=critique.id,
                user_id="U1",
                kind=FeedbackKind.dispute,
                comment="I did apologise",
                created_at=at,
                resolution=DisputeResolution.disagreed,
                resolution_note="Only after the policy line",
                labels=None,
            )
        )
        practice = PracticeSession(
            team_id=team_id,
            user_id="U1",
            scenario_id="laptop-dead-on-arrival",
            difficulty="upset",
            channel_id="D1",
            thread_ts=f"{tag}.2",
            engine="offline",
            start_mood=80,
            mood=40,
            status=SessionStatus.satisfied,
            started_at=at,
            ended_at=at,
            scorecard={"best_reply": "I'm so sorry"},
        )
        session.add(practice)
        session.flush()
        session.add(
            PracticeTurn(
                team_id=team_id,
                session_id=practice.id,
                position=0,
                role=TurnRole.customer,
                text="My laptop is dead!",
                mood_after=80,
                created_at=at,
            )
        )
        session.add(
            ChannelMessage(
                team_id=team_id,
                channel_id="C1",
                ts=f"{tag}.3",
                thread_ts=f"{tag}.3",
                user_id="U9",
                author_kind=AuthorKind.customer,
                posted_at=at,
            )
        )


def _count(database: Database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_text_and_metadata_past_the_retention_period_are_forgotten(database: Database) -> None:
    _fill(database, "T1", OLD, "1")
    _fill(database, "T2", RECENT, "2")

    with database.session() as session:
        changed = purge_expired(session, CUTOFF)

    assert changed == {
        "critiques": 1,
        "critique_feedback": 1,
        "practice_turns": 1,
        "practice_sessions": 1,
        "channel_messages": 1,
    }
    with database.session() as session:
        old, recent = session.scalars(select(Critique).order_by(Critique.team_id)).all()
        assert (old.reply_text, old.result) == (None, None)
        assert (old.apologize, old.overall) == (2, 70)  # the scores stay for the trends
        assert recent.reply_text and recent.result
        comments = session.execute(
            select(CritiqueFeedback.comment, CritiqueFeedback.resolution_note).order_by(
                CritiqueFeedback.team_id
            )
        )
        assert list(comments) == [(None, None), ("I did apologise", "Only after the policy line")]
        sessions = session.scalars(select(PracticeSession).order_by(PracticeSession.team_id))
        assert [s.scorecard for s in sessions] == [None, {"best_reply": "I'm so sorry"}]
        assert list(session.scalars(select(PracticeTurn.team_id))) == ["T2"]
        assert list(session.scalars(select(ChannelMessage.team_id))) == ["T2"]
    with database.session() as session:
        assert purge_expired(session, CUTOFF) == {}  # nothing left to forget


def test_purging_a_workspace_deletes_its_rows_and_only_its_rows(database: Database) -> None:
    _fill(database, "T1", RECENT, "1")
    _fill(database, "T2", RECENT, "2")

    with database.session() as session:
        deleted = purge_workspace(session, "T1")

    assert deleted["critiques"] == 1 and deleted["workspaces"] == 1
    for model in (Workspace, Critique, CritiqueFeedback, PracticeSession, PracticeTurn):
        assert _count(database, model) == 1, model.__tablename__
    with database.session() as session:
        assert session.get(Workspace, "T2") is not None


def test_the_purge_command_names_what_it_deleted(database: Database, database_url: str) -> None:
    _fill(database, "T1", RECENT, "1")
    command = [sys.executable, "-m", "bot", "purge", "--team"]
    environment = {"DATABASE_URL": database_url, "PATH": ""}

    done = subprocess.run([*command, "T1"], env=environment, capture_output=True, text=True)
    again = subprocess.run([*command, "T1"], env=environment, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Deleted workspace T1:") and "critiques 1" in done.stdout
    assert again.stdout == "Nothing was stored for workspace T1.\n"
    assert _count(database, Workspace) == 0
