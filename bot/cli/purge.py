"""`asap-coach purge --team T`: delete everything the bot holds for one workspace (its tokens,
settings, critiques, practice sessions, channel metadata, reminders), e.g. when it leaves."""

from __future__ import annotations

import argparse

from bot.cli._common import current_database
from bot.store.retention import purge_workspace


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "purge",
        help="Delete everything stored for one workspace.",
        description="Delete every row the bot holds for the workspace TEAM_ID (T…): tokens, "
        "settings, critiques, practice sessions and turns, channel metadata, reminders. "
        "Uninstalling the app does the same by itself.",
    )
    parser.add_argument("--team", required=True, metavar="TEAM_ID", help="the workspace's id")
    parser.set_defaults(handler=purge)


def purge(args: argparse.Namespace) -> int:
    with current_database() as db, db.session() as session:
        deleted = purge_workspace(session, args.team)
    if not deleted:
        print(f"Nothing was stored for workspace {args.team}.")
        return 0
    rows = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
    print(f"Deleted workspace {args.team}: {sum(deleted.values())} rows ({rows}).")
    return 0
