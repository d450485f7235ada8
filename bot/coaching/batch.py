"""Critiquing and evaluating many replies from JSON Lines, one object per line.

An input line has `agent_reply` and optionally `customer_message` and `scenario_facts`; eval
lines also carry gold labels. A line that cannot be used becomes an error result with its line
number, and the rest still run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.coaching.critique import CritiqueEngine, CritiqueRequest
from bot.coaching.evaluation import GOLD_FIELDS, EvalReport, JudgedItem, evaluate, predicted_labels
from bot.coaching.folds import is_written


@dataclass(frozen=True)
class InputLine:
    line: int
    fields: dict[str, Any]
    request: CritiqueRequest | None = None
    error: str | None = None


def _request(fields: dict[str, Any]) -> CritiqueRequest:
    return CritiqueRequest(
        agent_reply=fields.get("agent_reply"),
        customer_message=fields.get("customer_message"),
        scenario_facts=fields.get("scenario_facts"),
    )


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def read_lines(lines: Iterable[str]) -> Iterator[InputLine]:
    """Parsed input lines, numbered from 1; blank lines are skipped."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            yield InputLine(number, {}, error=f"invalid JSON: {error.msg}")
            continue
        if not isinstance(fields, dict):
            yield InputLine(number, {}, error="expected a JSON object")
            continue
        try:
            yield InputLine(number, fields, request=_request(fields))
        except ValidationError as error:
            yield InputLine(number, fields, error=_problem(error))


def critique_lines(engine: CritiqueEngine, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One JSON-ready result per input line, in order: a critique, or `line` and `error`."""
    for item in read_lines(lines):
        if item.request is None:
            yield {"line": item.line, "error": item.error}
        else:
            yield {"line": item.line, **engine.critique(item.request).model_dump(mode="json")}


def gold_labels(fields: dict[str, Any]) -> dict[str, int]:
    labels = {}
    for name in GOLD_FIELDS:
        value, top = fields.get(name), 1 if name == "trigger" else 2
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise ValueError(f"gold label {name!r} must be an integer from 0 to {top}")
        labels[name] = value
    return labels


@dataclass(frozen=True)
class EvalRun:
    report: EvalReport
    errors: list[dict[str, Any]]
    judged: list[JudgedItem]


def evaluate_lines(
    engine: CritiqueEngine,
    lines: Iterable[str],
    *,
    slowest: int = 5,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> EvalRun:
    """Agreement with the gold labels of every line (of the lines `keep` accepts, if given)."""
    replies, errors = labelled_replies(lines, keep)
    judged = judge(engine, replies)
    return EvalRun(evaluate(judged, errors=len(errors), slowest=slowest), errors, judged)


@dataclass(frozen=True)
class LabelledReply:
    """One usable line of a labels file: its request, gold labels and a key (id or line)."""

    line: int
    key: str
    request: CritiqueRequest
    gold: dict[str, int]
    written: bool


def labelled_replies(
    lines: Iterable[str], keep: Callable[[dict[str, Any]], bool] | None = None
) -> tuple[list[LabelledReply], list[dict[str, Any]]]:
    """The labelled replies of `lines` (those `keep` accepts), and the lines that had errors."""
    replies, errors = [], []
    for item in read_lines(lines):
        if keep is not None and item.request is not None and not keep(item.fields):
            continue
        try:
            if item.request is None:
                raise ValueError(item.error)
            gold = gold_labels(item.fields)
        except ValueError as error:
            errors.append({"line": item.line, "error": str(error)})
            continue
        key = item.fields.get("id")
        key = key if isinstance(key, str) else f"line {item.line}"
        replies.append(LabelledReply(item.line, key, item.request, gold, is_written(item.fields)))
    return replies, errors


def judge(engine: CritiqueEngine, replies: Iterable[LabelledReply]) -> list[JudgedItem]:
    """Each labelled reply critiqued by `engine`, next to its gold labels."""
    judged = []
    for reply in replies:
        started = time.perf_counter()
        critique = engine.critique(reply.request)
        seconds = time.perf_counter() - started
        predicted = predicted_labels(critique)
        judged.append(
            JudgedItem(reply.line, reply.key, reply.gold, predicted, seconds, reply.written)
        )
    return judged
