"""What the agent offered in practice, as the customer hears it: which of the scenario card's
offers a reply makes, and which promises it makes that the card rules out.

The customer acknowledges only the offers the agent made (never the card's list), asks about what
is still missing, and tests a promise that breaks the card's rules; the scorecard says which
offers were made. Matching is on wordings (`heard`, `phrases`) so that paraphrases count; the
rules are data in `prompts/practice/offers.toml`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from bot.coaching.text import ReplyText
from bot.prompt_files import read_toml

_QUOTE_LIMIT = 80
_OWN_WORDS = 4  # a plain card offer is heard by two of its first this many words


@dataclass(frozen=True)
class Wording:
    """Words that must all be in one sentence, in any order, and words (`-word`) that must not
    (see offers.toml)."""

    words: tuple[re.Pattern[str], ...]
    excluded: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, wording: str) -> Wording:
        words = wording.lower().split()
        return cls(
            tuple(_word(word) for word in words if not word.startswith("-")),
            tuple(_word(word[1:]) for word in words if word.startswith("-")),
        )


def _word(word: str) -> re.Pattern[str]:
    choices = []
    for choice in word.split("|"):
        stem = re.escape(choice.rstrip("*"))
        choices.append(rf"{stem}\w*" if choice.endswith("*") else rf"{stem}(?:s|es|'s)?")
    return re.compile(rf"(?<![\w-])(?:{'|'.join(choices)})(?![\w-])")


@dataclass(frozen=True)
class _Rules:
    negation_before: re.Pattern[str]
    negation_after: re.Pattern[str]
    clause_break: re.Pattern[str]
    common_words: frozenset[str]


@cache
def _rules() -> _Rules:
    data = read_toml("practice", "offers.toml")
    return _Rules(
        negation_before=re.compile(data["negation_before"]),
        negation_after=re.compile(data["negation_after"]),
        clause_break=re.compile(data["clause_break"]),
        common_words=frozenset(data["common_words"]),
    )


def own_wordings(offer: str) -> list[Wording]:
    """For a card offer given as plain text: any two of its first words that carry meaning."""
    common = _rules().common_words
    words = [w for w in re.findall(r"[a-z][a-z'-]+", offer.lower()) if w not in common]
    pairs = itertools.combinations(words[:_OWN_WORDS], 2) if len(words) > 1 else [tuple(words)]
    return [Wording.parse(" ".join(pair)) for pair in pairs if pair]


@dataclass(frozen=True)
class Heard:
    """What one reply offers: the agent's words that make it, as the customer would quote them."""

    index: int  # into the card's list (`offers.may` or `offers.may_not`)
    quote: str


def heard(wordings: Sequence[Iterable[Wording]], reply: str) -> list[Heard]:
    """Which of the offers (each given by its wordings) the reply makes, in the order of the
    reply: in a sentence that holds every word of one wording, in clauses that do not negate it."""
    text = ReplyText(reply)
    found: dict[int, tuple[int, str]] = {}
    for span in text.sentences:
        sentence = text.folded[span.start : span.end]
        for index, alternatives in enumerate(wordings):
            if index in found:
                continue
            for wording in alternatives:
                where = _said(wording, sentence)
                if where is not None:
                    quote = _short(text.original[span.start + where[0] : span.start + where[1]])
                    found[index] = (span.start + where[0], quote)
                    break
    return [Heard(index, quote) for index, (_, quote) in sorted(found.items(), key=_by_position)]


def _by_position(item: tuple[int, tuple[int, str]]) -> int:
    return item[1][0]


def _said(wording: Wording, sentence: str) -> tuple[int, int] | None:
    """Where in `sentence` the clause(s) saying `wording` are, unless a clause negates it."""
    matches = [word.search(sentence) for word in wording.words]
    if not matches or any(match is None for match in matches):
        return None
    if any(word.search(sentence) for word in wording.excluded):
        return None
    start = min(match.start() for match in matches if match)
    end = max(match.end() for match in matches if match)
    rules = _rules()
    clause_start = max(
        (b.end() for b in rules.clause_break.finditer(sentence, 0, start)), default=0
    )
    clause_end = next((b.start() for b in rules.clause_break.finditer(sentence, end)), None)
    clause_end = len(sentence) if clause_end is None else clause_end
    before = sentence[clause_start:start]
    if rules.negation_before.search(before) or rules.negation_after.search(
        sentence[end:clause_end]
    ):
        return None
    return clause_start, clause_end


def _short(quote: str) -> str:
    """The agent's words as the customer quotes them: short, without closing punctuation."""
    quote = " ".join(quote.split()).strip(" ,;:").rstrip(".!?")
    return quote if len(quote) <= _QUOTE_LIMIT else quote[: _QUOTE_LIMIT - 1].rstrip() + "…"
