"""`asap-coach disputes --team T`: a workspace's disputes, and `--export FILE` to write the
agreed ones as labelled replies for `asap-coach calibrate` (JSON Lines, the `eval` format).

An agreed dispute is a reply whose levels an admin set on the Home tab. Only replies whose text
the workspace stored can be exported (a label without the words is of no use to calibrate on);
the customer's message is never stored, so the lines carry none.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli._common import current_database, fail
from bot.coaching.disputes import LabelExport, dispute_overview, exported_labels
from bot.store.models import DisputeResolution


def add_parser(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "disputes",
        help="Count a workspace's disputes; export the agreed ones as calibration labels.",
        description="Disputes of workspace TEAM_ID (T…): how many wait for an admin and how "
        "many were resolved. With --export, the replies of the agreed disputes, with the "
        "levels the admin set, as JSON Lines in the `asap-coach eval` format (id, agent_reply, "
        "apologize, sympathize, responsibility, act, trigger) for `asap-coach calibrate`.",
    )
    parser.add_argument("--team", required=True, metavar="TEAM_ID", help="the workspace's id")
    parser.add_argument("--export", metavar="FILE", help="write the labels to this file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with current_database() as db:
        with db.session() as session:
            overview = dispute_overview(session, args.team)
        export = exported_labels(db, args.team)
    agreed = overview.counts[DisputeResolution.agreed]
    print(
        f"Workspace {args.team}: {overview.waiting} disputes waiting, {agreed} agreed "
        f"({len(export.lines)} replies with their text), "
        f"{overview.counts[DisputeResolution.disagreed]} disagreed."
    )
    if args.export:
        _export(args, export)
    return 0


def _export(args: argparse.Namespace, export: LabelExport) -> None:
    if not export.lines:
        missing = (
            f" {export.without_text} agreed replies were not stored as text (the workspace "
            "does not store reply text, or it was forgotten after RETENTION_DAYS)."
            if export.without_text
            else " Agree with a dispute on the Home tab to label its reply."
        )
        fail(f"no label to export: no agreed dispute with its reply's text.{missing}")
    path = Path(args.export)
    path.write_text("".join(json.dumps(line) + "\n" for line in export.lines), encoding="utf-8")
    print(f"Wrote {len(export.lines)} labelled replies to {path}.")
    if export.without_text:
        print(f"{export.without_text} agreed replies were left out: their text is not stored.")
    print(f"Calibrate on them: asap-coach calibrate {path} --team {args.team}")
