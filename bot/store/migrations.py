"""Alembic, driven from code: `asap-coach migrate`, the readiness probe and the tests use this."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

# The job queue's tables belong to procrastinate (installed by migration 0003 on PostgreSQL),
# not to our models: `alembic check` leaves them alone.
QUEUE_TABLE_PREFIX = "procrastinate_"


def alembic_config(database_url: str) -> Config:
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
        if schema_is_current(engine, database_url):
            return
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(engine: Engine, database_url: str) -> bool:
    return current_revision(engine) == head_revision(database_url)
