"""What the long-running subcommands (`run`, `worker`) share: the database made ready, the job
workers and the scheduler's ticks started and stopped, and a clean exit on SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import OperationalError

from bot.cli._common import MANIFEST_HINT, fail
from bot.jobs.job import QueueUnavailable
from bot.jobs.scheduler import build_scheduler
from bot.jobs.tasks import start_workers
from bot.services import Services
from bot.settings import Settings
from bot.slack.clients import slack_client
from bot.store.migrations import schema_is_current, upgrade_to_head

logger = logging.getLogger(__name__)


def ready_services(settings: Settings) -> Services:
    """The process's services, over a database at this release's schema, with the bot token
    accepted by Slack (single-workspace installs)."""
    services = Services.from_settings(settings)
    prepare_database(services)
    if not settings.oauth_enabled:
        verify_bot_token(settings)
    return services


def prepare_database(services: Services) -> None:
    settings = services.settings
    try:
        if settings.is_sqlite:
            # One process owns a SQLite file, so nobody can race it to migrate.
            upgrade_to_head(settings.database_url)
        elif not schema_is_current(services.db.engine):
            fail(
                "the database schema is out of date. Run `asap-coach migrate` once (from one "
                "replica or a release job), then start the bot again."
            )
    except OperationalError as error:
        fail(f"cannot reach the database in DATABASE_URL: {error.orig}")


def open_queue(services: Services) -> None:
    try:
        services.jobs.open()
    except (QueueUnavailable, OSError, TimeoutError) as error:
        fail(f"cannot open the job queue in DATABASE_URL ({type(error).__name__}).")


def verify_bot_token(settings: Settings) -> None:
    try:
        identity = slack_client(settings).auth_test()
    except SlackApiError as error:
        fail(
            f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}). Copy the Bot User "
            "OAuth Token from your app's 'OAuth & Permissions' page. " + MANIFEST_HINT
        )
    except SlackClientError as error:
        fail(f"cannot reach Slack at {settings.slack_api_url} ({type(error).__name__}).")
    except OSError as error:
        fail(f"cannot reach Slack at {settings.slack_api_url} ({error.strerror or error}).")
    logger.info("connected to workspace %s as %s", identity["team"], identity["user"])


@contextmanager
def running_jobs(services: Services) -> Iterator[Callable[[], str | None]]:
    """Run jobs in this process and tick the scheduler until the block ends; yields what the
    health probe asks: the name of the part that stopped, or None."""
    start_workers(services)
    scheduler = build_scheduler(services.jobs)
    scheduler.start()

    def stopped() -> str | None:
        if not services.jobs.workers_running:
            return "job workers"
        return None if scheduler.running else "scheduler"

    try:
        yield stopped
    finally:
        scheduler.shutdown(wait=False)


def exit_on_sigterm() -> None:
    """Orchestrators stop containers with SIGTERM: leave through the callers' `finally`, so
    running jobs get their grace period and the database its clean close."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
