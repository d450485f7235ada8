"""The SQLite file database's settings: each connection the bot opens gets them."""

from __future__ import annotations

from sqlalchemy import text

from bot.store.db import Database


def test_sqlite_commits_wait_for_checkpoints_not_for_the_disk(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/bot.db")
    try:
        with db.engine.connect() as connection:
            journal = connection.execute(text("PRAGMA journal_mode")).scalar()
            synchronous = connection.execute(text("PRAGMA synchronous")).scalar()
    finally:
        db.engine.dispose()

    # WAL with synchronous=NORMAL (1): an ack's event claim commits without an fsync, and a
    # crash of the process still loses nothing committed.
    assert (journal, synchronous) == ("wal", 1)
