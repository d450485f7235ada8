"""Queries on a channel's settings row, shared by the critique and the reminder domains."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ChannelSettings


def channel_settings(session: Session, team_id: str, channel_id: str) -> ChannelSettings | None:
    return session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.team_id == team_id, ChannelSettings.channel_id == channel_id
        )
    )
