"""Alembic, driven from code: `asap-coach migrate`, the readiness probe and the tests use this.

Whether a schema is current is read without alembic, by comparing its `alembic_version` row with
HEAD_REVISION: importing alembic (with mako and pygments) costs about 11 MB and 0.15 s, which
every start would pay only to compare two ids. Alembic is imported when there is a migration to
run.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Engine, column, create_engine, inspect, select, table

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration's revision id. A new migration changes it: tests/store/test_migrations.py
# fails while it differs from the head of the migration scripts.
HEAD_REVISION = "0007"

# The job queue's tables belong to procrastinate (installed by migration 0003 on PostgreSQL),
# not to our models: `alembic check` leaves them alone.
QUEUE_TABLE_PREFIX = "procrastinate_"

_VERSION_TABLE = table("alembic_version", column("version_num"))


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("bot.migrations")))
    # ConfigParser interpolation would choke on the % of URL-encoded passwords
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Upgrade, unless the schema is already at head: reading the revision takes about 15 ms,
    while a no-op `alembic upgrade` in a new process takes about 0.3 s of every restart."""
    engine = create_engine(database_url)
    try:
        if schema_is_current(engine):
            return
    finally:
        engine.dispose()
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), "base")


def scripts_head_revision() -> str | None:
    """The head of the migration scripts, as alembic finds it (HEAD_REVISION must equal it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the schema is at, None before the first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE.name):
            return None
        return connection.execute(select(_VERSION_TABLE.c.version_num)).scalar_one_or_none()


def schema_is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD_REVISION
