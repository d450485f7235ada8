"""`asap-coach eval`: measure a critique engine against gold labels in a JSON Lines file."""

from __future__ import annotations

import argparse
import sys

from bot.cli.critique import add_engine_argument, engine_from_args, open_input
from bot.coaching.batch import EvalRun, evaluate_lines
from bot.coaching.critique import STEPS
from bot.coaching.engines import EngineUnavailable


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "eval",
        help="Measure the critique engine against gold labels (JSON Lines).",
        description="Each line: agent_reply, optional customer_message, and gold labels "
        "apologize, sympathize, responsibility, act (0-2) and trigger (0/1).",
    )
    parser.add_argument("file", help="JSON Lines file with gold labels; '-' = stdin")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--slowest", type=int, default=5, help="how many slowest items to list")
    add_engine_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        engine = engine_from_args(args)
    except EngineUnavailable as error:
        print(f"asap-coach eval: {error}", file=sys.stderr)
        return 2
    with open_input(args.file) as lines:
        result = evaluate_lines(engine, lines, slowest=args.slowest)
    for error in result.errors:
        print(f"line {error['line']}: {error['error']}", file=sys.stderr)
    if args.json:
        print(result.report.model_dump_json(indent=2))
    else:
        print(format_report(result))
    return 1 if result.errors else 0


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
