"""Keeps customers' personal data out of LLM requests.

Emails, phone numbers and payment card numbers (those passing the Luhn check, so order numbers
are left alone) are replaced by placeholders such as `[EMAIL_1]` before text leaves the process,
and put back into what comes back (evidence quotes, the suggested rewrite).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Digit groups joined by single separators: "+44 20 7946 0958", "1-800-869-3557", "(555) 123-4567".
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,4}\)?){2,5}(?!\w)")
_PHONE_DIGITS = range(8, 16)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


@dataclass
class Redactor:
    """Redacts texts consistently (the same value gets the same placeholder) and restores them."""

    originals: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str) -> str:
        for placeholder, original in self.originals.items():
            if original == value and placeholder.startswith(f"[{kind}_"):
                return placeholder
        self._counts[kind] = self._counts.get(kind, 0) + 1
        placeholder = f"[{kind}_{self._counts[kind]}]"
        self.originals[placeholder] = value
        return placeholder

    def _replace_cards(self, match: re.Match[str]) -> str:
        value = match.group()
        return self._placeholder("CARD", value) if luhn_valid(_digits(value)) else value

    def _replace_phones(self, match: re.Match[str]) -> str:
        value = match.group()
        if len(_digits(value)) not in _PHONE_DIGITS:
            return value
        return self._placeholder("PHONE", value)

    def redact(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = _CARD.sub(self._replace_cards, text)
        text = _EMAIL.sub(lambda match: self._placeholder("EMAIL", match.group()), text)
        return _PHONE.sub(self._replace_phones, text)

    def restore(self, text: str) -> str:
        for placeholder, original in self.originals.items():
            text = text.replace(placeholder, original)
        return text
