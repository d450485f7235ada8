"""Engine and sessions for the configured database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

# A database that does not answer must not hold a Slack request past its 3 s: fail fast, and the
# person is told to try again.
CONNECT_TIMEOUT_SECONDS = 2
POOL_WAIT_SECONDS = 2


def create_db_engine(database_url: str, pool_size: int = 5) -> Engine:
    """`pool_size`: connections the process may use at once (its threads that touch the
    database). Errors never carry their bound parameters: they may be a reply's text."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url, connect_args={"check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _tune_sqlite_connection)
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        pool_timeout=POOL_WAIT_SECONDS,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        hide_parameters=True,
    )


def _tune_sqlite_connection(dbapi_connection, _record) -> None:
    # WAL lets readers run while a listener writes; the busy timeout makes concurrent writers
    # (bolt runs listeners on a thread pool) wait for each other instead of failing at once.
    # In WAL mode, synchronous=NORMAL syncs at checkpoints rather than at every commit: a
    # crash of the bot loses nothing, a power cut may lose the last commits but never corrupts
    # the file, and each ack's event claim no longer waits for the disk.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """One engine and its session factory, shared by every part of the bot."""

    def __init__(self, database_url: str, pool_size: int = 5) -> None:
        self.url = database_url
        self.engine = create_db_engine(database_url, pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends cleanly and rolled back otherwise."""
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
