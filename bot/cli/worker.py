"""`asap-coach worker`: run jobs (critiques, practice turns, backfills, reminders) from the
queue in PostgreSQL, beside web processes started with `asap-coach run --no-worker`. Serves
/healthz, /readyz and /metrics on HOST:PORT."""

from __future__ import annotations

import argparse
import logging

from bot.cli._common import MANIFEST_HINT, fail, settings_or_exit
from bot.cli._process import exit_on_sigterm, open_queue, ready_services, running_jobs
from bot.logs import configure_logging
from bot.web import Probes, build_wsgi_app, serve

logger = logging.getLogger(__name__)
OPS_THREADS = 2


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "worker",
        help="Run jobs from the queue (PostgreSQL), beside `run --no-worker` processes.",
        description="Run the jobs web processes enqueue: critiques, practice turns, backfills, "
        "reminders, practice timeouts. Needs PostgreSQL (with SQLite, `asap-coach run` runs "
        "them itself). Serves /healthz, /readyz and /metrics on HOST:PORT.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    if settings.is_sqlite:
        fail(
            "workers need PostgreSQL: with SQLite the jobs run inside `asap-coach run`. "
            "Set DATABASE_URL to the PostgreSQL database the web processes use."
        )
    if not settings.oauth_enabled and settings.slack_bot_token is None:
        fail(
            "SLACK_BOT_TOKEN is not set (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): jobs "
            f"post to Slack with it. {MANIFEST_HINT}"
        )
    services = ready_services(settings)
    open_queue(services)
    exit_on_sigterm()
    try:
        with running_jobs(services) as stopped:
            logger.info("running jobs; ops endpoints on %s:%d", settings.host, settings.port)
            serve(
                build_wsgi_app(Probes(services, stopped=stopped), None),
                settings.host,
                settings.port,
                OPS_THREADS,
            )
    except KeyboardInterrupt:
        logger.info("stopped")
    finally:
        services.close()
    return 0
