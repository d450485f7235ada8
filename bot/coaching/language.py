"""Whether a reply is in English, the only language the offline engine's rules read.

A cheap, deterministic count: the share of a reply's words that are common English words against
the share that are common words of the languages most often met instead
(`prompts/critique/languages.toml`), and the share of letters outside the Latin alphabet.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from bot.coaching.rubric import critique_data

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LETTER = re.compile(r"[^\W\d_]")
_NOT_LATIN = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f]")
# Fewer words than this and a reply cannot be told apart ("Gracias!" "Merci"): read as English.
_MIN_WORDS = 4
_MIN_LETTERS = 8


@dataclass(frozen=True)
class Languages:
    message: str
    english: frozenset[str]
    other: frozenset[str]


@cache
def languages() -> Languages:
    data = tomllib.loads(critique_data("languages.toml"))
    return Languages(data["message"], frozenset(data["english"]), frozenset(data["other"]))


def reads_as_english(text: str) -> bool:
    not_latin = len(_NOT_LATIN.findall(text))
    if not_latin:
        letters = len(_LETTER.findall(text))
        if letters >= _MIN_LETTERS and not_latin > letters / 2:
            return False
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    if len(words) < _MIN_WORDS:
        return True
    known = languages()
    english = sum(word in known.english for word in words)
    other = sum(word in known.other for word in words)
    return not (other >= 2 and other > 2 * english)
