"""Phone numbers in E.164 and contact details typed into a message.

Connectors share these so that a number arriving as an SMS sender and the same
number typed into a web chat become the same `Identity` value: that equality is
what lets staff be offered a link between the two (never a silent merge).
"""

from __future__ import annotations

import re

import phonenumbers

from triage.message import Identity

DEFAULT_REGION = "GB"
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for anything shaped like a phone number; None for short codes and sender names."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_contact_points(text: str, region: str = DEFAULT_REGION) -> tuple[Identity, ...]:
    """Email addresses and valid phone numbers in free text, normalised, in order, without repeats."""
    found: dict[tuple[str, str], Identity] = {}
    for match in EMAIL.finditer(text):
        value = match.group(0).lower()
        found.setdefault(("email", value), Identity("email", value))
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.setdefault(("phone", value), Identity("phone", value))
    return tuple(found.values())
