"""How long the bot keeps what people wrote, and forgetting a workspace altogether.

After RETENTION_DAYS, the text the bot stored goes (critiques' reply text and full results,
dispute comments and a lead's reason for keeping the scores, practice turns, scorecards, which
quote replies) and so does the metadata of support-channel messages; scores, counts and a
dispute's labels stay for the trends. A workspace that uninstalls the app, or whose admin runs
`asap-coach purge --team`, loses every row the bot holds for it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import delete, null, or_, update
from sqlalchemy.orm import Session

from bot.store.base import Base
from bot.store.models import (
    ChannelMessage,
    Critique,
    CritiqueFeedback,
    PracticeSession,
    PracticeTurn,
)


def purge_expired(session: Session, cutoff: datetime) -> Counter[str]:
    """Forget what is older than `cutoff`, in every workspace; how many rows changed, by table."""
    changed: Counter[str] = Counter()
    statements = {
        # Text and result are stored together, when the workspace allows it.
        "critiques": update(Critique)
        .where(Critique.created_at < cutoff, Critique.reply_text.is_not(None))
        .values(result=null(), reply_text=None),
        "critique_feedback": update(CritiqueFeedback)
        .where(
            CritiqueFeedback.created_at < cutoff,
            or_(
                CritiqueFeedback.comment.is_not(None),
                CritiqueFeedback.resolution_note.is_not(None),
            ),
        )
        .values(comment=None, resolution_note=None),
        "practice_turns": delete(PracticeTurn).where(PracticeTurn.created_at < cutoff),
        "practice_sessions": update(PracticeSession)
        .where(PracticeSession.ended_at < cutoff, PracticeSession.scorecard.is_not(None))
        .values(scorecard=null()),  # SQL NULL, not JSON null: the next purge skips it
        "channel_messages": delete(ChannelMessage).where(ChannelMessage.posted_at < cutoff),
    }
    for table, statement in statements.items():
        count = session.execute(statement.execution_options(synchronize_session=False)).rowcount
        if count:
            changed[table] = count
    return changed


def purge_workspace(session: Session, team_id: str) -> Counter[str]:
    """Delete every row the bot holds for the workspace (its tokens included); how many rows,
    by table."""
    deleted: Counter[str] = Counter()
    for table in reversed(Base.metadata.sorted_tables):  # children before their parents
        if "team_id" not in table.columns:
            continue
        count = session.execute(delete(table).where(table.c.team_id == team_id)).rowcount
        if count:
            deleted[table.name] = count
    return deleted
