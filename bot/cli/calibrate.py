"""`asap-coach calibrate`: fit the offline scoring layer to a team's own labelled replies.

By default only the cut points per step move (a team's few dozen labels can set where "partial"
and "done" begin, not hundreds of weights); a fixed share of the labels is held out and the
agreement on it is reported before and after. `--all-weights` refits every weight, which is how
the shipped `prompts/critique/weights.json` is made (the tune fold of the training set, with the
dev splits `--also`: their gold labels, the median of three reviewers, count `--also-weight`
times a single reviewer's). `--cross-validate K` measures a refit on labels it was not fitted on
(K folds by a hash of each id) and writes nothing: how features and settings are chosen.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli._common import fail, settings_or_exit
from bot.cli.critique import open_input
from bot.cli.eval import by_origin, format_side_by_side, in_fold
from bot.coaching.batch import LabelledReply, judge, labelled_replies
from bot.coaching.calibration import (
    HELD_OUT_PERCENT,
    TooFewLabels,
    calibrated,
    fit_calibration,
    is_held_out,
    save_workspace_calibration,
)
from bot.coaching.evaluation import EvalReport, JudgedItem, evaluate
from bot.coaching.fitting import Example, cross_validation_fold, fit_scorer
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
    where = parser.add_mutually_exclusive_group()
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
    parser.add_argument(
        "--also",
        nargs="+",
        default=[],
        metavar="FILE",
        help="with --all-weights: more labelled files to fit on, every line of them",
    )
    parser.add_argument(
        "--also-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="how many single-reviewer labels one line of the --also files counts as (default 1)",
    )
    parser.add_argument(
        "--cross-validate",
        type=int,
        metavar="K",
        help="with --all-weights: agreement of K refits, each on the labels outside one of K "
        "folds, measured on that fold; writes nothing",
    )
    parser.set_defaults(handler=run, parser=parser)


@dataclass(frozen=True)
class LabelsFile:
    name: str
    replies: list[LabelledReply]
    weight: float


def run(args: argparse.Namespace) -> int:
    if not args.all_weights and (args.also or args.cross_validate):
        args.parser.error("--also and --cross-validate refit every weight: add --all-weights")
    if args.cross_validate is None and not (args.out or args.team):
        args.parser.error("say where the result goes: --out FILE or --team TEAM_ID")
    keep = None if args.fold is None else in_fold(Fold(args.fold))
    first = _name(args.file) + (f" {args.fold}" if args.fold else "")
    files = [LabelsFile(first, _read(args.file, keep), 1.0)]
    files += [LabelsFile(_name(path), _read(path, None), args.also_weight) for path in args.also]
    if args.all_weights:
        return _refit_all(args, files)
    return _calibrate(args, files[0].replies)


def _name(path: str) -> str:
    return "stdin" if path == "-" else Path(path).name


def _read(path: str, keep) -> list[LabelledReply]:
    with open_input(path) as lines:
        replies, errors = labelled_replies(lines, keep)
    for error in errors:
        print(f"{_name(path)} line {error['line']}: {error['error']}", file=sys.stderr)
    if errors:
        fail(f"{len(errors)} lines of {path} cannot be used; fix them and run again")
    return replies


def _examples(
    engine: OfflineCritiqueEngine, replies: list[LabelledReply], weight: float = 1.0
) -> list[Example]:
    return [
        Example(frozenset(engine.read(reply.request).features.names()), reply.gold, weight)
        for reply in replies
    ]


def _provenance(args: argparse.Namespace, labels: int) -> dict[str, object]:
    command = ["asap-coach calibrate", _name(args.file)]
    if args.fold:
        command += ["--fold", args.fold]
    if args.all_weights:
        command.append("--all-weights")
    if args.also:
        command += ["--also", *map(_name, args.also), "--also-weight", f"{args.also_weight:g}"]
    digests = {_name(path): _sha256(path) for path in [args.file, *args.also]}
    return {"command": " ".join(command), "data_sha256": digests, "labels": labels}


def _sha256(path: str) -> str:
    return "stdin" if path == "-" else hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _refit_all(args: argparse.Namespace, files: list[LabelsFile]) -> int:
    if args.team:
        fail("--all-weights writes a weights file (--out), not a workspace's calibration")
    engine = OfflineCritiqueEngine()
    if args.cross_validate is not None:
        return _cross_validate(engine, files, args.cross_validate)
    examples = [
        example for file in files for example in _examples(engine, file.replies, file.weight)
    ]
    scorer = fit_scorer(examples, _provenance(args, len(examples)))
    scorer.write(Path(args.out))
    print(f"Fitted every weight on {len(examples)} labelled replies; wrote {args.out}.")
    print("Measure it on replies it was not fitted on, e.g. `asap-coach eval FILE --fold check`.")
    return 0


def _cross_validate(engine: OfflineCritiqueEngine, files: list[LabelsFile], folds: int) -> int:
    """Each fold's replies judged by weights fitted on every other fold's, per file."""
    if folds < 2:
        fail("--cross-validate needs at least 2 folds")
    examples = {
        file.name: list(
            zip(file.replies, _examples(engine, file.replies, file.weight), strict=True)
        )
        for file in files
    }
    judged: dict[str, list[JudgedItem]] = {file.name: [] for file in files}
    for fold in range(folds):
        fitting = [
            example
            for pairs in examples.values()
            for reply, example in pairs
            if cross_validation_fold(reply.key, folds) != fold
        ]
        refit = OfflineCritiqueEngine(engine.rubric, fit_scorer(fitting, {}))
        for name, pairs in examples.items():
            held_out = [r for r, _ in pairs if cross_validation_fold(r.key, folds) == fold]
            judged[name] += judge(refit, held_out)
    columns: dict[str, EvalReport] = {}
    for name, items in judged.items():
        columns[name] = evaluate(items)
        if any(item.written for item in items) and not all(item.written for item in items):
            columns.update(by_origin(name, items))
    print(
        f"Out-of-fold agreement of {folds} refits (each fold judged by the weights of the others):"
    )
    print(format_side_by_side(columns))
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
