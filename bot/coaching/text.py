"""A reply prepared for phrase matching, with every match traceable to verbatim text.

Matching runs on a *folded* copy of the reply that has exactly the same length as the original:
lowercase, straight apostrophes, links blanked out with `~` and @handles with `_`, and the HTML
escapes Slack (and Twitter) put in message text read as the character they stand for. Because
offsets line up, any match can be quoted verbatim from the original, which is how every piece of
evidence stays a true quote of what the agent wrote.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

# Curly and modifier apostrophes, backtick, curly double quotes -> straight ones.
_STRAIGHT_QUOTES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'}
)
# Spelled-out case classes instead of IGNORECASE, which would make this scan several times slower.
_LINK = re.compile(
    # a link, without the punctuation after it
    r"(?:[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.)\S*[^\s.,;:!?)\]'\"]"
    r"|\b(?:[A-Za-z0-9-]+\.)+(?:com|org|net|co|io|gov|edu|uk|us|ly|tv|me|help|in)\b"
    r"(?:/\S*[^\s.,;:!?)\]'\"])?"
)
_HANDLE = re.compile(r"(?<!\w)@\w+")
# Slack escapes &, < and > in message text; each escape reads as its character, padded with
# spaces so offsets still line up with the original.
_ESCAPE = re.compile(r"&(?:amp|lt|gt|quot|#39);")
_UNESCAPED = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_BLANKED_LINK = re.compile("~+")
_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n+")
_QUOTE_TRIM = " \t\r\n_"  # blanked @handles at a quote's edges are noise (links are content)
# A phrase in straight double quotes (after folding): words someone is quoted as saying.
QUOTED = re.compile(r'"([^"\n]{3,300})"')


def _unescaped(match: re.Match[str]) -> str:
    escape = match.group()
    return _UNESCAPED[escape].ljust(len(escape))


def _blanked_with(char: str):
    def blank(match: re.Match[str]) -> str:
        return char * len(match.group())

    return blank


def _lowercase_same_length(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters (e.g. "İ") grow when lowercased; keep those as they are.
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end and self != other


class ReplyText:
    """The original reply, its masked and folded copies and its sentences."""

    def __init__(
        self, original: str, masked: str | None = None, sentences: list[Span] | None = None
    ) -> None:
        self.original = original
        self._sentences = sentences
        if masked is None:
            straight = original.translate(_STRAIGHT_QUOTES)
            masked = _HANDLE.sub(_blanked_with("_"), _LINK.sub(_blanked_with("~"), straight))
            masked = _ESCAPE.sub(_unescaped, masked)
        # Case kept, links and handles blanked: for case-sensitive rules such as ALL CAPS.
        self.masked = masked
        self.folded = _lowercase_same_length(masked)

    def without(self, spans: list[Span]) -> ReplyText:
        """A copy in which the text of `spans` matches nothing, offsets unchanged; its sentences
        stay those of the reply, so a sentence index means the same in every copy."""
        if not spans:
            return self
        masked = self.masked
        for span in spans:
            masked = masked[: span.start] + " " * (span.end - span.start) + masked[span.end :]
        return ReplyText(self.original, masked, self.sentences)

    @cached_property
    def sentences(self) -> list[Span]:
        if self._sentences is not None:
            return self._sentences
        spans, start = [], 0
        for end_mark in _SENTENCE_END.finditer(self.folded):
            spans.append(Span(start, end_mark.end()))
            start = end_mark.end()
        if start < len(self.folded):
            spans.append(Span(start, len(self.folded)))
        kept = [span for span in spans if self.folded[span.start : span.end].strip(_QUOTE_TRIM)]
        return kept or [Span(0, len(self.folded))]

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [span.start for span in self.sentences]

    def sentence_index(self, position: int) -> int:
        return max(bisect.bisect_right(self._sentence_starts, position) - 1, 0)

    def window(self, position: int) -> Span:
        """The sentence holding `position` and the one after it."""
        index = self.sentence_index(position)
        last = self.sentences[min(index + 1, len(self.sentences) - 1)]
        return Span(self.sentences[index].start, last.end)

    def trimmed(self, span: Span) -> Span:
        """`span` without @handles or whitespace at its edges."""
        start, end = span.start, span.end
        while start < end and self.folded[start] in _QUOTE_TRIM:
            start += 1
        while end > start and self.folded[end - 1] in _QUOTE_TRIM:
            end -= 1
        return Span(start, end)

    def quote(self, span: Span) -> str:
        """The original text of `span`, without @handles or whitespace at its edges."""
        inner = self.trimmed(span)
        return self.original[inner.start : inner.end]

    def links(self, span: Span) -> list[Span]:
        """The links inside `span` (blanked out in the folded copy)."""
        return [
            Span(*found.span())
            for found in _BLANKED_LINK.finditer(self.folded, span.start, span.end)
        ]
