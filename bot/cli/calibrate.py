"""`asap-coach calibrate`: fit the offline scoring layer to a team's own labelled replies.

By default only the cut points per step move (a team's few dozen labels can set where "partial"
and "done" begin, not hundreds of weights); a fixed share of the labels is held out and the
agreement on it is reported before and after. `--all-weights` refits every weight, which is how
the shipped `prompts/critique/weights.json` is made from the tune fold of the training set.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from bot.cli._common import fail, settings_or_exit
from bot.cli.critique import open_input
from bot.cli.eval import format_side_by_side, in_fold
from bot.coaching.batch import LabelledReply, judge, labelled_replies
from bot.coaching.calibration import (
    HELD_OUT_PERCENT,
    TooFewLabels,
    calibrated,
    fit_calibration,
    is_held_out,
    save_workspace_calibration,
)
from bot.coaching.evaluation import evaluate
from bot.coaching.fitting import Example, fit_scorer
from bot.coaching.folds import Fold
from bot.coaching.offline import OfflineCritiqueEngine
from bot.store.db import Database


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "calibrate",
        help="Fit the offline scores to your team's labelled replies (JSON Lines, eval format).",
        description="Each line as for `asap-coach eval`: agent_reply, optional "
        "customer_message, and your labels apologize, sympathize, responsibility, act (0-2) "
        f"and trigger (0/1). {HELD_OUT_PERCENT} % of the lines are held out to measure the "
        "calibration on.",
    )
    parser.add_argument("file", help="JSON Lines file of labelled replies; '-' = stdin")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE", help="write the calibration to this file")
    where.add_argument(
        "--team", metavar="TEAM_ID", help="store it for this workspace in the bot's database"
    )
    parser.add_argument(
        "--fold",
        choices=[fold.value for fold in Fold],
        help="only the items of this fold of a training file",
    )
    parser.add_argument(
        "--all-weights",
        action="store_true",
        help="refit every weight on all the lines (hundreds of labels; makes weights.json)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    keep = None if args.fold is None else in_fold(Fold(args.fold))
    with open_input(args.file) as lines:
        replies, errors = labelled_replies(lines, keep)
    for error in errors:
        print(f"line {error['line']}: {error['error']}", file=sys.stderr)
    if errors:
        fail(f"{len(errors)} lines of {args.file} cannot be used; fix them and run again")
    if args.all_weights:
        return _refit_all(args, replies)
    return _calibrate(args, replies)


def _examples(engine: OfflineCritiqueEngine, replies: list[LabelledReply]) -> list[Example]:
    return [
        Example(frozenset(engine.read(reply.request).features.names()), reply.gold)
        for reply in replies
    ]


def _provenance(args: argparse.Namespace, labels: int) -> dict[str, object]:
    command = ["asap-coach calibrate", Path(args.file).name]
    if args.fold:
        command += ["--fold", args.fold]
    if args.all_weights:
        command.append("--all-weights")
    digest = "stdin" if args.file == "-" else _sha256(Path(args.file))
    return {"command": " ".join(command), "data_sha256": digest, "labels": labels}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refit_all(args: argparse.Namespace, replies: list[LabelledReply]) -> int:
    if args.team:
        fail("--all-weights writes a weights file (--out), not a workspace's calibration")
    engine = OfflineCritiqueEngine()
    scorer = fit_scorer(_examples(engine, replies), _provenance(args, len(replies)))
    scorer.write(Path(args.out))
    print(f"Fitted every weight on {len(replies)} labelled replies; wrote {args.out}.")
    print("Measure it on replies it was not fitted on, e.g. `asap-coach eval FILE --fold check`.")
    return 0


def _calibrate(args: argparse.Namespace, replies: list[LabelledReply]) -> int:
    fitted = [reply for reply in replies if not is_held_out(reply.key)]
    held_out = [reply for reply in replies if is_held_out(reply.key)]
    engine = OfflineCritiqueEngine()
    try:
        calibration = fit_calibration(
            engine.scorer, _examples(engine, fitted), _provenance(args, len(fitted))
        )
    except TooFewLabels as error:
        fail(str(error))
    kept = ", ".join(calibration.thresholds)
    print(f"Calibrated on {len(fitted)} labelled replies: {kept}.")
    if held_out:
        before = evaluate(judge(engine, held_out))
        after = evaluate(judge(calibrated(engine, calibration), held_out))
        print(f"\nOn the {len(held_out)} held-out replies (not used to fit):")
        print(format_side_by_side({"shipped": before, "calibrated": after}))
    if args.out:
        calibration.write(Path(args.out))
        print(f"\nWrote {args.out}; use it with `asap-coach eval FILE --calibration {args.out}`.")
    else:
        database = Database(settings_or_exit().database_url)
        save_workspace_calibration(database, args.team, calibration, len(fitted))
        print(f"\nStored for workspace {args.team}; the bot scores with it from now on.")
    return 0
