"""`asap-coach run`: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on HOST:PORT; the job
workers in the same process unless `--no-worker` (then `asap-coach worker` runs them)."""

from __future__ import annotations

import argparse
import logging
from contextlib import ExitStack

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import build_app
from bot.cli._common import MANIFEST_HINT, fail, settings_or_exit
from bot.cli._process import exit_on_sigterm, open_queue, ready_services, running_jobs
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings
from bot.web import Probes, build_wsgi_app, serve

logger = logging.getLogger(__name__)


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "run",
        help="Run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP).",
        description="Run the bot. With SLACK_APP_TOKEN it connects over Socket Mode (no public "
        "URL needed); otherwise it serves Slack's request URL /slack/events on HOST:PORT. "
        "Both serve /healthz, /readyz and /metrics on HOST:PORT. Jobs (critiques, practice "
        "turns, reminders) run in this process too, unless --no-worker.",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="only answer Slack and enqueue; `asap-coach worker` processes run the jobs "
        "(PostgreSQL only)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    problem = credential_problem(settings)
    if problem:
        fail(
            f"{problem} Set it in the environment or in .env (see README, 'Settings'). "
            f"{MANIFEST_HINT}"
        )
    if args.no_worker and settings.is_sqlite:
        fail(
            "--no-worker needs PostgreSQL: with SQLite the jobs run inside `asap-coach run`. "
            "Set DATABASE_URL to a PostgreSQL database to run workers apart."
        )
    services = ready_services(settings)
    try:
        app = build_app(services)
    except ConfigError as error:
        fail(str(error))
    open_queue(services)
    exit_on_sigterm()
    with ExitStack() as stack:
        stack.callback(services.close)
        stopped = (lambda: None) if args.no_worker else stack.enter_context(running_jobs(services))
        probes = Probes(services, stopped=stopped)
        try:
            if settings.socket_mode:
                socket = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
                socket.connect()
                # Closed first on the way out: Slack sends the next events to the app's other
                # connections while this process's running jobs finish and its queue closes.
                stack.callback(socket.close)
                logger.info("connected over Socket Mode; ops endpoints on port %d", settings.port)
                serve(build_wsgi_app(probes, None), settings.host, settings.port, threads=2)
            else:
                logger.info("serving /slack/events on %s:%d", settings.host, settings.port)
                app_wsgi = build_wsgi_app(probes, app)
                serve(app_wsgi, settings.host, settings.port, settings.http_threads)
        except KeyboardInterrupt:
            logger.info("stopped")
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
