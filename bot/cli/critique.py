"""`asap-coach critique`: critique one reply, or a JSON Lines file of them, against ASAP."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from bot.coaching.batch import critique_lines
from bot.coaching.critique import Critique, CritiqueEngine, CritiqueRequest
from bot.coaching.engines import EngineChoice, EngineUnavailable, build_critique_engine
from bot.coaching.rubric import load_rubric
from bot.settings import load_settings

_MARKS = {2: "✓", 1: "~", 0: "✗"}
_COLOURS = {2: "32", 1: "33", 0: "31", "dim": "2", "bold": "1", "warn": "35"}


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=[choice.value for choice in EngineChoice],
        default=EngineChoice.auto.value,
        help="auto (default): the LLM engine when OPENAI_API_KEY is set, else offline",
    )


def engine_from_args(args: argparse.Namespace) -> CritiqueEngine:
    return build_critique_engine(load_settings(), EngineChoice(args.engine))


@contextmanager
def open_input(path: str) -> Iterator[TextIO]:
    """The named file, or stdin for '-'."""
    if path == "-":
        yield sys.stdin
    else:
        with open(path, encoding="utf-8") as file:
            yield file


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "critique",
        help="Critique a reply to an upset customer against the ASAP method.",
        description="Scores Apologize, Sympathize, accept reSponsibility and Prepare to act, "
        "flags inflaming wording and suggests a rewrite.",
    )
    parser.add_argument("reply", nargs="?", help="the agent's reply")
    parser.add_argument("--customer", help="the customer's message the reply answers")
    parser.add_argument("--facts", help='scenario facts, e.g. "the customer dropped the device"')
    parser.add_argument(
        "--jsonl",
        metavar="FILE",
        help="critique one JSON object per line (agent_reply, customer_message); '-' = stdin",
    )
    parser.add_argument("--json", action="store_true", help="print the critique as JSON")
    add_engine_argument(parser)
    parser.set_defaults(handler=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    if (args.reply is None) == (args.jsonl is None):
        args.parser.error("give either a reply or --jsonl FILE")
    try:
        engine = engine_from_args(args)
    except EngineUnavailable as error:
        print(f"asap-coach critique: {error}", file=sys.stderr)
        return 2
    if args.jsonl is not None:
        return _run_jsonl(engine, args.jsonl)
    if not args.reply.strip():
        print("asap-coach critique: the reply is empty", file=sys.stderr)
        return 2
    request = CritiqueRequest(
        agent_reply=args.reply, customer_message=args.customer, scenario_facts=args.facts
    )
    critique = engine.critique(request)
    if args.json:
        print(critique.model_dump_json(indent=2))
    else:
        # NO_COLOR is the terminal's convention (no-color.org), not a bot setting.
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        print(format_critique(critique, colour=colour))
    return 0


def _run_jsonl(engine: CritiqueEngine, path: str) -> int:
    failed = False
    with open_input(path) as lines:
        for result in critique_lines(engine, lines):
            failed = failed or "error" in result
            print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if failed else 0


class _Painter:
    """ANSI styles when colour is on, plain text otherwise."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, style: int | str) -> str:
        return f"\033[{_COLOURS[style]}m{text}\033[0m" if self.colour else text


def _step_lines(critique: Critique, paint: _Painter) -> list[str]:
    rubric, lines = load_rubric(), []
    for name, verdict in critique.steps.items():
        title = rubric.steps[name].title
        lines.append(paint(f"{_MARKS[verdict.score]} {title}: {verdict.score}/2", verdict.score))
        lines.extend(f'    "{quote}"' for quote in verdict.evidence)
        if verdict.tip:
            lines.append(paint(f"    Tip: {verdict.tip}", "dim"))
    return lines


def _trigger_lines(critique: Critique, paint: _Painter) -> list[str]:
    if not critique.triggers:
        return []
    lines = ["", paint("Inflaming wording:", "warn")]
    for trigger in critique.triggers:
        lines.append(f'  ! "{trigger.quote}" ({trigger.kind.value.replace("_", " ")})')
        lines.append(paint(f"    {trigger.why} Instead: {trigger.better}", "dim"))
    return lines


def _way_out_lines(critique: Critique, paint: _Painter) -> list[str]:
    way_out = critique.way_out
    if not way_out.customer_at_fault:
        return []
    verdict = "gives" if way_out.offered else "does not give"
    lines = ["", f"Way out: the customer is at fault; the reply {verdict} them a way out."]
    if way_out.tip:
        lines.append(paint(f"    Tip: {way_out.tip}", "dim"))
    return lines


def format_critique(critique: Critique, *, colour: bool) -> str:
    """The critique as terminal text; ANSI colour only when `colour`."""
    paint = _Painter(colour)
    engine = critique.engine.value
    if critique.fallback_reason:
        engine += f" (fallback: {critique.fallback_reason})"
    if critique.not_scored:
        return (
            paint("ASAP critique: not scored", "bold")
            + paint(f"  [{engine}]", "dim")
            + (f"\n{critique.not_scored}")
        )
    lines = [
        paint(f"ASAP critique: {critique.overall}/100", "bold") + paint(f"  [{engine}]", "dim"),
        critique.summary,
        "",
        *_step_lines(critique, paint),
        *_trigger_lines(critique, paint),
        *_way_out_lines(critique, paint),
    ]
    if critique.usage:
        lines += ["", paint(f"Tokens used: {critique.usage.total_tokens}", "dim")]
    lines += ["", paint("Suggested rewrite:", "bold"), f"  {critique.rewrite}"]
    return "\n".join(lines)
