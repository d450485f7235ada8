"""`asap-coach migrate`: bring the database schema to the newest revision."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from bot.cli._common import fail, settings_or_exit
from bot.store.migrations import upgrade_to_head


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "migrate",
        help="Apply database migrations (upgrade to head).",
        description="Apply database migrations to DATABASE_URL. Run it once per release, "
        "before starting the new version: `run` does it by itself only on SQLite.",
    )
    parser.set_defaults(handler=migrate)


def migrate(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    try:
        upgrade_to_head(settings.database_url)
    except OperationalError as error:
        fail(f"cannot reach the database in DATABASE_URL: {error.orig}")
    print("Database schema is up to date.")
    return 0
