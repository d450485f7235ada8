"""`asap-coach run`: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on HOST:PORT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import OperationalError

from bot.app import build_app
from bot.cli._common import MANIFEST_HINT, fail, settings_or_exit
from bot.jobs import build_scheduler
from bot.logs import configure_logging
from bot.services import Services
from bot.settings import ConfigError, Settings
from bot.slack.clients import slack_client
from bot.store.migrations import schema_is_current, upgrade_to_head
from bot.web import Probes, build_wsgi_app, serve

logger = logging.getLogger(__name__)


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "run",
        help="Run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP).",
        description="Run the bot. With SLACK_APP_TOKEN it connects over Socket Mode (no public "
        "URL needed); otherwise it serves Slack's request URL /slack/events on HOST:PORT. "
        "Both serve /healthz, /readyz and /metrics on HOST:PORT.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    problem = credential_problem(settings)
    if problem:
        fail(
            f"{problem} Set it in the environment or in .env (see README, 'Settings'). "
            f"{MANIFEST_HINT}"
        )
    services = Services.from_settings(settings)
    _prepare_database(services)
    if not settings.oauth_enabled:
        _verify_bot_token(settings)
    try:
        app = build_app(services)
    except ConfigError as error:
        fail(str(error))
    scheduler = build_scheduler(services)
    scheduler.start()
    probes = Probes(services, scheduler_running=lambda: scheduler.running)
    # Orchestrators stop containers with SIGTERM: leave through the `finally` below, cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if settings.socket_mode:
            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).connect()
            logger.info("connected over Socket Mode; ops endpoints on port %d", settings.port)
            serve(build_wsgi_app(probes, None), settings.host, settings.port, threads=2)
        else:
            logger.info("serving /slack/events on %s:%d", settings.host, settings.port)
            app_wsgi = build_wsgi_app(probes, app)
            serve(app_wsgi, settings.host, settings.port, settings.http_threads)
    except KeyboardInterrupt:
        logger.info("stopped")
    finally:
        scheduler.shutdown(wait=False)
        services.db.dispose()
    return 0


def credential_problem(settings: Settings) -> str | None:
    """The first missing or malformed credential, described for a person, or None."""
    bot_token = settings.slack_bot_token
    if not settings.oauth_enabled and bot_token is None:
        return (
            "SLACK_BOT_TOKEN is not set (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to "
            "install to several workspaces)."
        )
    if bot_token is not None and not bot_token.get_secret_value().startswith("xoxb-"):
        return "SLACK_BOT_TOKEN does not look like a bot token (it starts with xoxb-)."
    if settings.socket_mode:
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
            return "SLACK_APP_TOKEN does not look like an app-level token (it starts with xapp-)."
        if settings.oauth_enabled:
            return (
                "SLACK_APP_TOKEN is set, but multi-workspace installs need HTTP mode for "
                "their install page: unset SLACK_APP_TOKEN."
            )
        return None
    if settings.slack_signing_secret is None:
        return "SLACK_SIGNING_SECRET is not set (HTTP mode), nor SLACK_APP_TOKEN (Socket Mode)."
    return None


def _prepare_database(services: Services) -> None:
    settings = services.settings
    try:
        if settings.is_sqlite:
            # One process owns a SQLite file, so nobody can race it to migrate.
            upgrade_to_head(settings.database_url)
        elif not schema_is_current(services.db.engine, settings.database_url):
            fail(
                "the database schema is out of date. Run `asap-coach migrate` once (from one "
                "replica or a release job), then start the bot again."
            )
    except OperationalError as error:
        fail(f"cannot reach the database in DATABASE_URL: {error.orig}")


def _verify_bot_token(settings: Settings) -> None:
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
