"""Alembic environment: our metadata, batch mode on SQLite (it cannot ALTER most things)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from bot.settings import load_settings
from bot.store import models  # noqa: F401  (registers every table on Base.metadata)
from bot.store.base import Base, UTCDateTime
from bot.store.migrations import QUEUE_TABLE_PREFIX

config = context.config
target_metadata = Base.metadata
if not config.get_main_option("sqlalchemy.url"):
    # Run from the `alembic` command line (alembic.ini): use the bot's own DATABASE_URL.
    config.set_main_option("sqlalchemy.url", load_settings().database_url.replace("%", "%%"))


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_TABLE_PREFIX))


def render_item(type_: str, obj: object, autogen_context) -> str | bool:
    """Write our column types as the plain types the database stores, so migrations stay
    independent of the bot's Python code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection") or engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
