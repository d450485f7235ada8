"""The customer's problem in their own words, said back from the agent's side.

"My order never arrived!!" becomes "your order never arrived", so the suggested rewrite can
apologise for and name what actually went wrong instead of a placeholder. Only a short statement
of a problem (or a question that states one, "why was I charged twice?") is said back; nothing
with profanity, a link, orders to the grader or an admitted fault. The words lists are data:
`prompts/critique/rewrite.toml`, `[problem]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from bot.coaching.rubric import _compile as compile_patterns
from bot.coaching.text import ReplyText

_PICTOGRAPH = r"[\u2600-\u27bf\U0001f000-\U0001faff]\ufe0f?"
_EDGES = ",.!?;:'\"()"


def compiled(patterns: str | list[str]) -> re.Pattern[str]:
    """One regex matching any of `patterns` (the TOML lists of the rewrite's data), arranged for
    speed as the rubric's are."""
    return compile_patterns([patterns] if isinstance(patterns, str) else patterns)


@dataclass(frozen=True)
class ProblemRules:
    """How the problem is read from the customer's message and said back."""

    max_words: int
    cues: re.Pattern[str]
    unusable: re.Pattern[str]
    questions: tuple[tuple[re.Pattern[str], str], ...]  # a question and the statement it makes
    rephrase: tuple[tuple[re.Pattern[str], str], ...]  # said back otherwise, and how
    leading: re.Pattern[str]
    subjects: frozenset[str]
    lowercase_first: frozenset[str]
    swap: Mapping[str, str]
    swap_pairs: Mapping[str, str]
    object_forms: Mapping[str, str]
    clause_openers: frozenset[str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            max_words=data["max_words"],
            cues=compiled(data["cues"]),
            unusable=compiled(data["unusable"]),
            questions=tuple(
                (compiled(question["pattern"]), question["says"]) for question in data["questions"]
            ),
            rephrase=tuple(
                (compiled(rephrasing["pattern"]), rephrasing["says"])
                for rephrasing in data["rephrase"]
            ),
            leading=compiled(data["leading"]),
            subjects=frozenset(data["subjects"]),
            lowercase_first=frozenset(data["lowercase_first"]),
            swap=data["swap"],
            swap_pairs=data["swap_pairs"],
            object_forms=data["object_forms"],
            clause_openers=frozenset(data["clause_openers"]),
        )


def problem_in_their_words(
    rules: ProblemRules,
    message: str | None,
    unsaid: Iterable[re.Pattern[str]],
    unsayable: Iterable[re.Pattern[str]] = (),
) -> str | None:
    """What went wrong, from the customer's message, as the agent says it back ("your order never
    arrived"); None when no short statement of a problem is there to say back. A sentence matching
    `unsaid` (orders to the grader, an admitted fault) is never said back, nor a problem that, said
    back, would match `unsayable` (the rubric's trigger wordings)."""
    if not message:
        return None
    plain = ReplyText(message)
    unsaid = [rules.unusable, *unsaid]
    unsayable = list(unsayable)
    for sentence in plain.sentences:
        said = plain.original[sentence.start : sentence.end]
        folded = plain.folded[sentence.start : sentence.end]
        if "~" in folded or any(p.search(folded) for p in unsaid):
            continue  # links, profanity, orders to the grader, an admitted fault
        for clause in re.split(r"[,;:]\s+|\s+[\u2013\u2014-]\s+|\s+but\s+", said.strip()):
            problem = _said_back(rules, clause)
            if problem and not any(p.search(ReplyText(problem).folded) for p in unsayable):
                return problem
    return None


def _said_back(rules: ProblemRules, clause: str) -> str | None:
    asked = clause.rstrip().endswith("?")
    clause = re.sub(r"@\w+|\[[^\]]*\]", "", clause)
    clause = re.sub(rf"(?:{_PICTOGRAPH})+", "", clause).strip(' .!?,;:"')
    clause = rules.leading.sub("", _unshouted(clause))
    words = clause.split()
    if not words or len(words) > rules.max_words:
        return None
    statement = _stated(rules, clause)
    if statement:  # "where is my refund" -> "I'm still waiting for my refund"
        clause = statement
    elif asked or not _about_them_or_us(rules, clause):
        return None
    if _bare(clause.split(" ", 1)[0]).lower() not in rules.subjects:
        return None
    if not rules.cues.search(clause.lower()):
        return None
    said = _swapped(rules, " ".join(clause.split()))
    for pattern, says in rules.rephrase:  # "you can't log in" -> "you haven't been able to…"
        said = pattern.sub(says, said)
    first = said.split(" ", 1)[0].lower()
    if first in rules.lowercase_first or first in rules.swap.values():
        said = said[:1].lower() + said[1:]
    return said


def _unshouted(clause: str) -> str:
    """The customer's ALL CAPS in lowercase (said back, they would shout at the customer): every
    capitalised word of four letters or more, and all of them when most of the clause shouts."""
    words = clause.split(" ")
    shouted = [word for word in words if word.isupper() and len(word.strip(_EDGES)) > 1]
    everything = len(shouted) * 2 > len(words)
    return " ".join(
        word.lower() if word in shouted and (everything or len(word.strip(_EDGES)) > 3) else word
        for word in words
    )


def _stated(rules: ProblemRules, clause: str) -> str | None:
    """A question that states a problem, as the customer would state it."""
    for pattern, says in rules.questions:
        found = pattern.match(clause.lower())
        if found:
            groups = {
                name: clause[found.start(name) : found.end(name)] for name in found.groupdict()
            }
            return says.format(**groups)
    return None


def _about_them_or_us(rules: ProblemRules, clause: str) -> bool:
    return any(_bare(word).lower() in rules.swap for word in clause.split())


def _bare(word: str) -> str:
    return word.rstrip(",.!?").replace("\u2019", "'")


def _swapped(rules: ProblemRules, clause: str) -> str:
    """The clause from the agent's point of view: I -> you, my -> your, you -> we (or us)."""
    words = clause.split(" ")
    said: list[str] = []
    at = 0
    while at < len(words):
        pair = " ".join(words[at : at + 2]).lower()
        if pair in rules.swap_pairs:
            said.append(rules.swap_pairs[pair])
            at += 2
            continue
        word = words[at]
        bare = _bare(word)
        swapped = rules.swap.get(bare.lower())
        if said and said[-1].lower() not in rules.clause_openers:
            swapped = rules.object_forms.get(swapped, swapped)  # "called you" -> "called us"
        said.append(swapped + word[len(word.rstrip(",.!?")) :] if swapped else word)
        at += 1
    return " ".join(said)
