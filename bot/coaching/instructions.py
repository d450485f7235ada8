"""Orders to the grader hidden in the text a critique reads (a prompt injection), found by what
they talk about rather than by their wording.

A sentence gives the grader orders when it talks of grading (a score, marks, the rubric, a
perfect grade) and addresses the grader or the graded text (the model, "this reply", every step,
"your instructions"), or when it gives an order only an injection gives ("ignore your rules").
The two halves may sit in neighbouring sentences: an order split in two is found too. The word
lists are data (`prompts/critique/instructions.toml`, with `guards.toml`'s injection wordings),
in the languages most often met, and they are matched after undoing the usual disguises: accents,
look-alike letters, zero-width characters, leetspeak ("sc0r3 2 0n 3v3ry st3p") and letters
spaced out ("s c o r e").

The LLM engine removes these sentences before the model sees anything, so an obedient model has
nothing to obey; in both engines they earn no credit.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from itertools import pairwise

from bot.coaching.rubric import _compile, critique_data, load_rubric
from bot.coaching.text import ReplyText, Span

# What the model is shown where a sentence was removed (llm_system.md says what it means).
REMOVED = "[instruction to the grader removed]"

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Cyrillic and Greek letters that look like Latin ones.
_LOOKALIKES = str.maketrans("аеорсухіјѕԁԛԝɡοτνρκαυ", "aeopcyxijsdqwgotvpkau")
_LEET_SYMBOLS = "013457@$"
_LEET = {one: str.maketrans(_LEET_SYMBOLS, f"o{one}eastas") for one in "il"}  # 1 is i or l
# A word that mixes letters with leet symbols, whole: only these read differently undone.
_LEET_WORD = re.compile(
    r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[" + _LEET_SYMBOLS + r"])[a-z0-9@$]+"
)
_LEET_MIX = re.compile(r"[a-z][0-9@$]|[0-9$][a-z]")  # digits or symbols in a word (not @handles)
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACED_OUT = re.compile(r"(?<!\w)(?:\w[ .\-_*]){2,}\w(?!\w)")  # s c o r e, s.c.o.r.e
_SPACING = re.compile(r"[ .\-_*]")


def _plain(text: str) -> str:
    """Lowercase, no accents, no invisible characters, look-alikes as Latin letters."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        text = text.casefold().translate(_LOOKALIKES).replace("\u2019", "'")
    else:
        text = text.lower()
    return _SPACED_OUT.sub(lambda spaced: _SPACING.sub("", spaced.group()), text)


def _unleet(word: re.Match[str], one: str) -> str:
    return word.group().translate(_LEET[one])


def readings(text: str) -> tuple[str, ...]:
    """The ways `text` can be read once its disguises are undone."""
    plain = _plain(text)
    if not _LEET_MIX.search(plain):
        return (plain,)
    return tuple(dict.fromkeys(_LEET_WORD.sub(partial(_unleet, one=one), plain) for one in "il"))


@dataclass(frozen=True)
class InstructionFinder:
    grading: re.Pattern[str]
    addressing: re.Pattern[str]
    outright: re.Pattern[str]
    injection: re.Pattern[str]  # guards.toml's wordings, which the offline engine uses too

    def _outright(self, reading: str) -> bool:
        return bool(self.outright.search(reading) or self.injection.search(reading))

    def _halves(self, sentence: str) -> set[str]:
        found: set[str] = set()
        for reading in readings(sentence):
            if self._outright(reading):
                found.add("outright")
            if self.grading.search(reading):
                found.add("grading")
            if self.addressing.search(reading):
                found.add("addressing")
        return found

    def sentences(self, text: str | None) -> list[Span]:
        """The sentences of `text` that give the grader orders, in order."""
        if not text or not any(
            self.grading.search(reading) or self._outright(reading) for reading in readings(text)
        ):
            return []  # most texts: no talk of grading at all, so no sentence to look at
        reply = ReplyText(text)
        spans = [reply.trimmed(span) for span in reply.sentences]
        halves = [self._halves(text[span.start : span.end]) for span in spans]
        orders = {
            index
            for index, found in enumerate(halves)
            if "outright" in found or {"grading", "addressing"} <= found
        }
        for index, (this, after) in enumerate(pairwise(halves)):
            split = ("grading" in this and "addressing" in after) or (
                "addressing" in this and "grading" in after
            )
            if split:
                orders |= {index, index + 1}
        return [spans[index] for index in sorted(orders)]

    def without_orders(self, text: str | None) -> str | None:
        """`text` with each sentence giving the grader orders replaced by REMOVED."""
        return self._replaced(text, lambda span: REMOVED)

    def blanked(self, text: str | None) -> str | None:
        """`text` with each sentence giving the grader orders blanked out, offsets unchanged."""
        return self._replaced(text, lambda span: " " * (span.end - span.start))

    def _replaced(self, text: str | None, instead: Callable[[Span], str]) -> str | None:
        if not text:
            return text
        pieces, done = [], 0
        for span in self.sentences(text):
            pieces += [text[done : span.start], instead(span)]
            done = span.end
        return "".join([*pieces, text[done:]])


@cache
def instruction_finder() -> InstructionFinder:
    data = tomllib.loads(critique_data("instructions.toml"))
    return InstructionFinder(
        grading=_compile(data["grading"]),
        addressing=_compile(data["addressing"]),
        outright=_compile(data["outright"]),
        injection=load_rubric().guards.injection,
    )
