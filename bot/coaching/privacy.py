"""Keeps customers' personal data out of LLM requests.

Replaced by placeholders such as `[EMAIL_1]` before text leaves the process, and put back into
what comes back (evidence quotes, the suggested rewrite):

- emails;
- IBANs: a country's code and registered length, passing the mod-97 check, with or without
  spaces;
- payment card numbers: 13 to 19 digits, whole or in groups joined by one kind of separator
  (space, dash or dot), starting as a payment card network's numbers do and passing the Luhn
  check; an expiry date or code typed after the groups does not hide the number;
- phone numbers, found by `phonenumbers`: international ones (+44 …, 0044 …) and national ones of
  `PHONE_REGIONS`, when valid and grouped as that country writes them, and 7-digit North American
  local numbers (555-0123).

Facts the coach needs reach the model unchanged: dates, times, amounts, tracking codes, order
references (a number right after "#" or a word and a dash, "#88812345", "PNR-4439383383", is
never a phone), ids in links, and digit groups that are not a valid number where they would be
one ("1234-5678-90").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from phonenumbers import Leniency, ValidationResult

# Countries whose national phone formats are recognised (international numbers always are):
# English-speaking markets, the EU's largest, India and Latin America's largest.
PHONE_REGIONS = (
    "US", "GB", "IE", "AU", "NZ", "IN", "DE", "AT", "CH", "FR", "BE", "NL", "ES", "IT", "PT",
    "BR", "MX",
)  # fmt: skip
# The length of each country's IBAN, from the IBAN registry (ISO 13616).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Numbers in links are ids of pages and tracking parameters, not anybody's card or phone.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>|]+")
# A country code and two check digits; letters and digits follow, single spaces allowed between.
_IBAN_START = re.compile(r"\b([A-Za-z]{2})\d{2}")
# Digit groups joined by one kind of separator, not part of a longer number, word or decimal.
_DIGIT_GROUPS = re.compile(r"(?<![\w.,-])\d+(?:([ .-])\d+(?:\1\d+)*)?(?![\w-]|[.,]\d)")
_CARD_DIGITS = range(13, 20)
_CARD_ISSUERS = re.compile(r"[3-6]|2[2-6]|27[0-2]")  # Amex to Discover; Mir and Mastercard's 2s
# A 7-digit North American number without its area code: exchange, separator, line.
_LOCAL_PHONE = re.compile(r"(?<![\w#.,+-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|[.,]\d)")
# What marks the number after it as a reference: "#88812345", "PNR-4439383383".
_REFERENCE_MARK = re.compile(r"(?:#|[A-Za-z]-)$")

Span = tuple[int, int]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """`iban` without spaces: the country's length and the ISO 7064 mod-97 check."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _email_spans(text: str) -> Iterator[Span]:
    return (match.span() for match in _EMAIL.finditer(text))


@cache
def _iban_shape(length: int) -> re.Pattern[str]:
    return re.compile(rf"[A-Za-z0-9](?: ?[A-Za-z0-9]){{{length - 1}}}(?![A-Za-z0-9])")


def _iban_spans(text: str) -> Iterator[Span]:
    for start in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(start.group(1).upper())
        match = length and _iban_shape(length).match(text, start.start())
        if match and iban_valid(match.group().replace(" ", "")):
            yield match.span()


def _card_spans(text: str) -> Iterator[Span]:
    """Whole digit groups, or their first few: an expiry date or a security code may follow a
    card number with the same separator."""
    links = _link_spans(text)
    for groups in _DIGIT_GROUPS.finditer(text):
        separator = groups.group(1) or " "
        parts = groups.group().split(separator)
        for count in range(len(parts), 0, -1):
            digits = "".join(parts[:count])
            if len(digits) < _CARD_DIGITS.start:
                break
            span = (groups.start(), groups.start() + len(separator.join(parts[:count])))
            if _is_card_number(digits) and not _inside(span, links):
                yield span
                break


def _is_card_number(digits: str) -> bool:
    issuer = _CARD_ISSUERS.match(digits) is not None
    return len(digits) in _CARD_DIGITS and issuer and luhn_valid(digits)


def _phone_spans(text: str) -> Iterator[Span]:
    spans = {
        (match.start, match.end)
        for region in PHONE_REGIONS
        for match in phonenumbers.PhoneNumberMatcher(text, region, Leniency.STRICT_GROUPING)
    }
    spans.update(
        match.span() for match in _LOCAL_PHONE.finditer(text) if _is_local_number(match.group())
    )
    links = _link_spans(text)
    return (
        span
        for span in spans
        if not _inside(span, links) and not _REFERENCE_MARK.search(text, 0, span[0])
    )


def _is_local_number(candidate: str) -> bool:
    number = phonenumbers.parse(candidate, "US")
    return (
        phonenumbers.is_possible_number_with_reason(number)
        == ValidationResult.IS_POSSIBLE_LOCAL_ONLY
    )


def _link_spans(text: str) -> list[Span]:
    return [match.span() for match in _URL.finditer(text)]


def _inside(span: Span, outer: list[Span]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in outer)


# In this order: emails may hold digits, and an IBAN's digits may pass for a card or a phone.
_KINDS: tuple[tuple[str, Callable[[str], Iterable[Span]]], ...] = (
    ("EMAIL", _email_spans),
    ("IBAN", _iban_spans),
    ("CARD", _card_spans),
    ("PHONE", _phone_spans),
)


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

    def _replace(self, kind: str, text: str, spans: Iterable[Span]) -> str:
        """`text` with each span replaced; where two overlap, the one starting first (or the
        longer) wins."""
        pieces, done = [], 0
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            if start >= done:
                pieces += [text[done:start], self._placeholder(kind, text[start:end])]
                done = end
        return "".join([*pieces, text[done:]])

    def redact(self, text: str | None) -> str | None:
        if text is None:
            return None
        for kind, find in _KINDS:
            text = self._replace(kind, text, find(text))
        return text

    def restore(self, text: str) -> str:
        for placeholder, original in self.originals.items():
            text = text.replace(placeholder, original)
        return text
