"""What every subcommand shares: settings with a readable error instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from bot.settings import Settings, load_settings
from bot.store.db import Database
from bot.store.migrations import schema_is_current

MANIFEST_HINT = "Create the Slack app from deploy/slack-app-manifest.yml (see README, 'Install')."


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        problems = "; ".join(_problem(problem) for problem in error.errors())
        fail(f"invalid setting — {problems}. Fix it in the environment or .env (see README).")


def _problem(problem: dict) -> str:
    """`PORT: Input should be a valid integer`; a rule between settings names them itself."""
    setting = ".".join(str(part) for part in problem["loc"]).upper()
    message = problem["msg"].removeprefix("Value error, ").rstrip(".")
    return f"{setting}: {message}" if setting else message


def fail(message: str) -> NoReturn:
    """Print one clear line for the user and exit non-zero (no traceback)."""
    print(f"asap-coach: {message}", file=sys.stderr)
    raise SystemExit(2)


@contextmanager
def current_database() -> Iterator[Database]:
    """The bot's database (DATABASE_URL), reachable and migrated, else one clear line."""
    settings = settings_or_exit()
    db = Database(settings.database_url)
    try:
        if not schema_is_current(db.engine):
            fail("the database schema is out of date: run `asap-coach migrate` first.")
        yield db
    except OperationalError as error:
        fail(f"cannot reach the database in DATABASE_URL: {error.orig}")
    finally:
        db.dispose()
