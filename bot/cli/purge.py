"""`asap-coach purge --team T`: delete everything the bot holds for one workspace (its tokens,
settings, critiques, practice sessions, channel metadata, reminders, its queued jobs), e.g. when
it leaves."""

from __future__ import annotations

import argparse

from bot.cli._common import current_database, settings_or_exit
from bot.jobs.queue import JobQueue
from bot.store.retention import purge_workspace


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "purge",
        help="Delete everything stored for one workspace.",
        description="Delete every row the bot holds for the workspace TEAM_ID (T…): tokens, "
        "settings, critiques, practice sessions and turns, channel metadata, reminders, and its "
        "jobs waiting in the queue. "
        "Uninstalling the app does the same by itself.",
    )
    parser.add_argument("--team", required=True, metavar="TEAM_ID", help="the workspace's id")
    parser.set_defaults(handler=purge)


def purge(args: argparse.Namespace) -> int:
    with current_database() as db, db.session() as session:
        deleted = purge_workspace(session, args.team)
    deleted["procrastinate_jobs"] += _forget_queued_jobs(args.team)
    deleted = +deleted  # without the tables nothing was deleted from
    if not deleted:
        print(f"Nothing was stored for workspace {args.team}.")
        return 0
    rows = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
    print(f"Deleted workspace {args.team}: {sum(deleted.values())} rows ({rows}).")
    return 0


def _forget_queued_jobs(team_id: str) -> int:
    """On PostgreSQL the queue's rows may hold the workspace's text (a draft waiting to be
    checked); on SQLite the queue lives in the running bot's memory, out of reach here."""
    settings = settings_or_exit()
    if settings.is_sqlite:
        return 0
    jobs = JobQueue(settings)
    jobs.open()
    try:
        return jobs.forget_team(team_id)
    finally:
        jobs.close()
