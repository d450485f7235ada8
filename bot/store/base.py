"""The one declarative base of every table, with a naming convention Alembic can rely on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zones and hands back naive values; storing naive UTC and re-attaching UTC
    on the way out keeps comparisons and arithmetic identical on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _real_now() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _real_now


def utcnow() -> datetime:
    """Now, in UTC, on the bot's clock: what it stamps rows with and counts days from."""
    return _clock()


def run_on_clock(clock: Callable[[], datetime] | None) -> None:
    """Make `clock` the bot's clock in this process; None: the real one again.

    Only the sandbox does this: it runs the bot in its own process next to the fake Slack, on
    the sandbox's day (which "Advance to tomorrow" moves), so that what the bot stamps, what the
    Home tab dates and what the reminder counts as yesterday follow the messages' day.
    Durations (how long a job waited, an ack took) are measured on the real clock regardless.
    """
    global _clock
    _clock = clock or _real_now
