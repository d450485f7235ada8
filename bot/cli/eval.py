"""`asap-coach eval`: measure a critique engine against gold labels in a JSON Lines file.

`--fold tune|check` keeps one fold of a training file (`bot/coaching/folds.py`); `--splits DIR`
measures the dev splits and both folds of `train.jsonl` in one side-by-side table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli._common import fail
from bot.cli.critique import add_engine_argument, engine_from_args, open_input
from bot.coaching.batch import EvalRun, evaluate_lines
from bot.coaching.calibration import Calibration
from bot.coaching.critique import STEPS, CritiqueEngine
from bot.coaching.engines import EngineChoice, EngineUnavailable, build_critique_engine
from bot.coaching.evaluation import EvalReport, JudgedItem, evaluate
from bot.coaching.folds import Fold, fold_of
from bot.settings import load_settings

# The labelled files of the shared eval folder, and which fold of each is measured.
SPLIT_FILES = (
    ("dev", "dev.jsonl", None),
    ("contrast-dev", "contrast-dev.jsonl", None),
    ("tune", "train.jsonl", Fold.tune),
    ("check", "train.jsonl", Fold.check),
)


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "eval",
        help="Measure the critique engine against gold labels (JSON Lines).",
        description="Each line: agent_reply, optional customer_message, and gold labels "
        "apologize, sympathize, responsibility, act (0-2) and trigger (0/1).",
    )
    parser.add_argument("file", nargs="?", help="JSON Lines file with gold labels; '-' = stdin")
    parser.add_argument(
        "--fold",
        choices=[fold.value for fold in Fold],
        help="only the items of this fold (by a hash of each line's id)",
    )
    parser.add_argument(
        "--splits",
        metavar="DIR",
        help="the eval folder: dev, contrast-dev, tune and check side by side",
    )
    parser.add_argument(
        "--calibration",
        metavar="FILE",
        help="also measure with a team's calibration (from `asap-coach calibrate --out`)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--slowest", type=int, default=5, help="how many slowest items to list")
    add_engine_argument(parser)
    parser.set_defaults(handler=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.splits is None):
        args.parser.error("give either a FILE or --splits DIR")
    try:
        engine = engine_from_args(args)
    except EngineUnavailable as error:
        print(f"asap-coach eval: {error}", file=sys.stderr)
        return 2
    engines = {"shipped": engine}
    if args.calibration is not None:
        engines["calibrated"] = _calibrated_engine(args)
    if args.splits is not None:
        return _run_splits(engines, Path(args.splits))
    keep = None if args.fold is None else in_fold(Fold(args.fold))
    with open_input(args.file) as lines:
        text = list(lines)
    for name, each in engines.items():
        result = evaluate_lines(each, text, slowest=args.slowest, keep=keep)
        if len(engines) > 1 and not args.json:
            print(f"== {name} ==")
        if args.json:
            print(result.report.model_dump_json(indent=2))
        else:
            print(format_report(result))
    for error in result.errors:
        print(f"line {error['line']}: {error['error']}", file=sys.stderr)
    return 1 if result.errors else 0


def _calibrated_engine(args: argparse.Namespace) -> CritiqueEngine:
    try:
        calibration = Calibration.read(Path(args.calibration))
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot read the calibration {args.calibration}: {error}")
    return build_critique_engine(load_settings(), EngineChoice(args.engine), calibration)


def in_fold(fold: Fold):
    def keep(fields: dict) -> bool:
        return isinstance(fields.get("id"), str) and fold_of(fields["id"]) is fold

    return keep


def _run_splits(engines: dict[str, CritiqueEngine], folder: Path) -> int:
    missing = [name for _, name, _ in SPLIT_FILES if not (folder / name).is_file()]
    if missing:
        print(f"asap-coach eval: {folder} has no {', '.join(missing)}", file=sys.stderr)
        return 2
    for engine_name, engine in engines.items():
        columns: dict[str, EvalReport] = {}
        for name, file_name, fold in SPLIT_FILES:
            with (folder / file_name).open(encoding="utf-8") as lines:
                keep = None if fold is None else in_fold(fold)
                judged = evaluate_lines(engine, lines, keep=keep).judged
            columns[name] = evaluate(judged)
            if fold is not None:
                columns.update(by_origin(name, judged))
        if len(engines) > 1:
            print(f"== {engine_name} ==")
        print(format_side_by_side(columns))
    return 0


def by_origin(name: str, judged: list[JudgedItem]) -> dict[str, EvalReport]:
    """The reports of `judged`'s real and written replies apart."""
    real = [item for item in judged if not item.written]
    written = [item for item in judged if item.written]
    return {f"{name} real": evaluate(real), f"{name} written": evaluate(written)}


def format_side_by_side(columns: dict[str, EvalReport]) -> str:
    """QWK per step and trigger F1, one column per split."""
    width = max(8, *(len(name) for name in columns)) + 1
    lines = [
        f"{'':<15}" + "".join(f"{name:>{width}}" for name in columns),
        f"{'items':<15}" + "".join(f"{report.items:>{width}}" for report in columns.values()),
    ]
    for step in STEPS:
        lines.append(
            f"{step:<15}"
            + "".join(f"{report.steps[step].qwk:>{width}.3f}" for report in columns.values())
        )
    lines.append(
        f"{'trigger F1':<15}"
        + "".join(f"{report.trigger.f1:>{width}.3f}" for report in columns.values())
    )
    return "\n".join(["QWK per step, trigger F1", *lines])


def _matrix(rows: list[list[int]], labels: tuple[str, ...]) -> list[str]:
    header = "      gold\\pred " + " ".join(f"{label:>5}" for label in labels)
    body = [
        f"      {label:>9} " + " ".join(f"{count:>5}" for count in row)
        for label, row in zip(labels, rows, strict=True)
    ]
    return [header, *body]


def format_report(result: EvalRun) -> str:
    report = result.report
    lines = [
        f"{report.items} items evaluated, {report.errors} lines with errors",
        "",
        f"{'step':<15} {'accuracy':>8} {'QWK':>6} {'F1 done':>8} {'F1 present':>10}",
    ]
    for step in STEPS:
        agreement = report.steps[step]
        lines.append(
            f"{step:<15} {agreement.accuracy:>8.3f} {agreement.qwk:>6.3f} "
            f"{agreement.f1_done:>8.3f} {agreement.f1_present:>10.3f}"
        )
    trigger = report.trigger
    lines += [
        "",
        f"trigger: F1 {trigger.f1:.3f}  precision {trigger.precision:.3f}  "
        f"recall {trigger.recall:.3f}",
        "",
        "Confusion matrices (rows: gold, columns: predicted)",
    ]
    for step in STEPS:
        lines += [f"  {step}", *_matrix(report.steps[step].confusion, ("0", "1", "2"))]
    lines += ["  trigger", *_matrix(trigger.confusion, ("0", "1"))]
    lines += ["", "Slowest items"]
    lines += [
        f"  line {item.line:>5}  {item.id or '-':<14} {item.seconds * 1000:8.2f} ms"
        for item in report.slowest
    ]
    return "\n".join(lines)
