"""Postal addresses as identities: one normalised line in, envelope lines back out.

The sender `Identity("postal", value)` of a letter is its name and address on one
line, joined by ", " ("Mrs Jane Smith, 14 Orchard Close, Exampleton, EX4 7QT"):
readable by staff, stable for the same writer at the same address (so their
letters meet in one customer), and what a reply letter is addressed with.
"""

from __future__ import annotations

import re

from triage.message import Identity

POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9O][ABD-HJLNP-UW-Z]{2})\b")
"""A UK postcode in upper-cased text (inward letters exclude C I K M O V); OCR's O for 0 is allowed inward."""
SEPARATOR = ", "


def find_postcode(text: str) -> str | None:
    """The last postcode in `text`, normalised (`EX4 7QT`)."""
    matches = list(POSTCODE.finditer(text.upper()))
    if not matches:
        return None
    outward, inward = matches[-1].groups()
    return f"{outward} {inward[0].replace('O', '0')}{inward[1:]}"


def tidy_line(line: str) -> str:
    """One address line: single spaces, no trailing commas or full stops, the postcode in standard form."""
    line = " ".join(line.split()).strip(" ,.;")
    postcode = find_postcode(line)
    if postcode:
        match = list(POSTCODE.finditer(line.upper()))[-1]
        line = (line[: match.start()] + postcode + line[match.end():]).strip(" ,.;")
    return line


def postal_identity(name: str | None, address: tuple[str, ...]) -> Identity:
    """Commas inside a line ("Flat 3, Rosebank House") become spaces, so the separator splits lines only."""
    lines = [" ".join(tidy_line(line).replace(",", " ").split()) for line in ((name,) if name else ()) + address]
    return Identity("postal", SEPARATOR.join(line for line in lines if line), display_name=name)


def envelope_lines(value: str) -> list[str]:
    """A postal identity's lines for the address block of a letter."""
    return [line.strip() for line in value.split(",") if line.strip()]
