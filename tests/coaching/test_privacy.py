"""PII redaction before LLM calls: what must never reach the model, the facts that must reach it
unchanged, and placeholders put back into what comes back."""

from __future__ import annotations

import pytest

from bot.coaching.privacy import Redactor, iban_valid, luhn_valid

# (kind, personal data as customers and agents write it), in several countries' formats.
PERSONAL_DATA = [
    ("EMAIL", "ana.lopez+orders@example.co.uk"),
    ("EMAIL", "jo.1234567@mail.example.com"),
    ("CARD", "4111 1111 1111 1111"),
    ("CARD", "4111.1111.1111.1111"),
    ("CARD", "4111-1111-1111-1111"),
    ("CARD", "4111111111111111"),
    ("CARD", "5500-0000-0000-0004"),  # Mastercard
    ("CARD", "2221 0000 0000 0009"),  # Mastercard's 2-series
    ("CARD", "3782 822463 10005"),  # American Express, 4-6-5
    ("CARD", "6011.1111.1111.1117"),  # Discover
    ("IBAN", "DE89 3704 0044 0532 0130 00"),
    ("IBAN", "DE89370400440532013000"),
    ("IBAN", "de89 3704 0044 0532 0130 00"),
    ("IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN", "FR14 2004 1010 0505 0001 3M02 606"),
    ("IBAN", "ES91 2100 0418 4502 0005 1332"),
    ("IBAN", "NL91 ABNA 0417 1643 00"),
    ("IBAN", "BR18 0036 0305 0000 1000 9795 493C 1"),
    ("PHONE", "555-0123"),  # US local, without the area code
    ("PHONE", "555.0123"),
    ("PHONE", "(212) 555-0199"),
    ("PHONE", "212.555.0199"),
    ("PHONE", "1-800-869-3557"),
    ("PHONE", "+1 (800) 555-0123"),
    ("PHONE", "020 7946 0958"),  # UK
    ("PHONE", "07911 123456"),
    ("PHONE", "+44 20 7946 0958"),
    ("PHONE", "0044 20 7946 0958"),
    ("PHONE", "030 1234567"),  # Germany
    ("PHONE", "0151 23456789"),
    ("PHONE", "+49 30 12345678"),
    ("PHONE", "01 23 45 67 89"),  # France
    ("PHONE", "06.12.34.56.78"),
    ("PHONE", "+33 6 12 34 56 78"),
    ("PHONE", "98765 43210"),  # India
    ("PHONE", "+91 22 2345 6789"),
    ("PHONE", "(11) 91234-5678"),  # Brazil
    ("PHONE", "+55 11 3456-7890"),
]

# Facts the coach needs: they reach the model exactly as written.
FACTS = [
    "Your order of 2024-11-23 ships on 23/11/2024, that is 23.11.2024 or 11/23/2024.",
    "Order #88812345 and reference 1234-5678-90 are still open.",
    "Amazon order 112-3456789-1234567 was refunded; ticket INC0012345, case 00123456.",
    "We open 7:00 AM - 1:00 AM, 09:00-17:30, and refunds take 3-5 days (order #4471).",
    "You paid $1,234.56, €1.234,56, £99.99, R$ 1.234,56 and ₹12,34,567.",
    "Tracking 1Z999AA10123456784, 9400 1000 0000 0000 0000 00, AB123456789GB.",
    "Flight BA 2490 on 2024-11-23 at 14:05, seat 23A, PNR-4439383383, order #212-555-0199.",
    "Version 10.4.2, build 2024.11.23.1, error 0x80070005, serial 1234567890123.",
    "Postcodes 10115, 01310-100 and SW1A 1AA; invoice FR-2024-000123 of 12.03.2023.",
    "See https://support.example.com/articles/360012737974/Refunds?ref=2125550199 for details.",
    "Archived at https://web.archive.org/web/20191213044137/https://example.com/help.",
]


@pytest.mark.parametrize(("kind", "value"), PERSONAL_DATA, ids=[v for _, v in PERSONAL_DATA])
def test_personal_data_becomes_a_placeholder_and_comes_back(kind, value):
    text = f"Hi, it's {value}. Thanks!"
    redactor = Redactor()
    redacted = redactor.redact(text)
    assert redacted == f"Hi, it's [{kind}_1]. Thanks!"
    assert redactor.restore(redacted) == text


@pytest.mark.parametrize("fact", FACTS)
def test_dates_references_amounts_and_codes_reach_the_model_unchanged(fact):
    assert Redactor().redact(fact) == fact


def test_a_message_with_everything_keeps_its_facts_and_hides_the_rest():
    text = (
        "On 2024-11-23 you charged card 4111.1111.1111.1111 twice for order #88812345. "
        "Refund it to DE89 3704 0044 0532 0130 00 or call me on 555-0123 (jo@example.com)."
    )
    redacted = Redactor().redact(text)
    assert redacted == (
        "On 2024-11-23 you charged card [CARD_1] twice for order #88812345. "
        "Refund it to [IBAN_1] or call me on [PHONE_1] ([EMAIL_1])."
    )


def test_an_expiry_date_and_code_typed_after_a_card_do_not_hide_it():
    assert Redactor().redact("4111 1111 1111 1111 12 26 123") == "[CARD_1] 12 26 123"
    assert Redactor().redact("4111-1111-1111-1111 12/26") == "[CARD_1] 12/26"


def test_numbers_failing_their_check_are_not_taken_for_cards_or_ibans():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("DE8937040044053201300")  # one character short for Germany
    assert Redactor().redact("order 4111 1111 1111 1112 is late") == (
        "order 4111 1111 1111 1112 is late"
    )
    assert "[IBAN_" not in Redactor().redact("GB82 WEST 1234 5698 7654 33")


def test_the_same_value_gets_the_same_placeholder_across_texts_and_kinds_count_apart():
    redactor = Redactor()
    first = redactor.redact("write to jo@example.com or call 555-0123")
    second = redactor.redact("jo@example.com, as I said; or ana@example.com, or 555-0123")
    assert first == "write to [EMAIL_1] or call [PHONE_1]"
    assert second == "[EMAIL_1], as I said; or [EMAIL_2], or [PHONE_1]"
    assert redactor.restore("Email [EMAIL_2], not [EMAIL_1]; call [PHONE_1].") == (
        "Email ana@example.com, not jo@example.com; call 555-0123."
    )


def test_the_model_quoting_placeholders_gets_the_original_values_back():
    redactor = Redactor()
    redactor.redact("Call me on +44 20 7946 0958, card 3782 822463 10005.")
    answer = "I'll call you on [PHONE_1] today about card [CARD_1]."
    assert redactor.restore(answer) == (
        "I'll call you on +44 20 7946 0958 today about card 3782 822463 10005."
    )


def test_no_text_stays_no_text():
    assert Redactor().redact(None) is None
