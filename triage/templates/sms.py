"""How many SMS segments a text costs (pure).

A reply must fit in two segments, and one character outside the GSM 03.38
alphabet (a Welsh ŵ, ŷ or â, a curly quote, an emoji) switches the whole message
to UCS-2, cutting a segment from 160 to 70 characters. Counting it exactly is the
only way to know that a Welsh reply still fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 7-bit default alphabet: one septet each."""
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
"""Reached through the escape code: two septets each."""

LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}
"""Units in a single-segment message, and per segment once it is split (the rest is the UDH)."""


@dataclass(frozen=True)
class SmsSize:
    encoding: Literal["gsm7", "ucs2"]
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    segments: int


def encoding_for(text: str) -> Literal["gsm7", "ucs2"]:
    return "gsm7" if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text) else "ucs2"


def _cost(ch: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if ch in GSM_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair


def sms_segments(text: str) -> SmsSize:
    """Segments as a handset or provider splits them: an escape pair or surrogate pair is never cut."""
    encoding = encoding_for(text)
    single, per_segment = LIMITS[encoding]
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units <= single:
        return SmsSize(encoding, units, 1 if text else 0)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments += 1
            used = 0
        used += cost
    return SmsSize(encoding, units, segments)
