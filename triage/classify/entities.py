"""Rule-based entities: found in the text as structured fields, and masked to placeholder tokens.

Masking lets the model learn "a PCN number" or "a postcode" rather than one
particular number. Rules run most specific first, so a PCN is never also read
as a phone number; every rule needs a shape or a context word, never a bare
run of digits, so ordinary numbers ("3 bags", "flat 12", "2026") are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.classify.needles import could_match, needles

_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
           r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|ionawr|chwefror|mawrth|ebrill|mai|mehefin|gorffennaf|"
           r"awst|medi|hydref|tachwedd|rhagfyr")
_OCR_DIGIT = r"[0-9OoIl]"
"""Scanned letters turn 0 into O and 1 into l or I; references are read through that noise."""


@dataclass(frozen=True)
class EntityRule:
    kind: str
    """The key on `Prediction.entities` and the placeholder token (`ENT_<KIND>`) in the features."""
    pattern: re.Pattern[str]
    group: int | str = 0
    needs: frozenset[str] | None = None
    """Lower-case strings of which every match contains at least one (read off the pattern by `needles`): a
    substring test skips the regex on the many messages that cannot match. None: always run."""


def _rule(kind: str, pattern: str, flags: int = re.I, group: int | str = 0, starts: str | None = None) -> EntityRule:
    """`starts`: a character class every match begins with. As a leading lookahead it lets `re` skip to the
    next such character instead of trying every alternative at every position (money and phone rules: half
    the time, the same matches on the corpus)."""
    compiled = re.compile(f"(?={starts})(?:{pattern})" if starts else pattern, flags)
    return EntityRule(kind, compiled, group, needles(compiled))


RULES: tuple[EntityRule, ...] = (
    _rule("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    _rule("case_ref", rf"\bT-{_OCR_DIGIT}{{6}}\b"),
    _rule("planning_ref", r"\b(?:[A-Z]{1,4}/)?\d{2,4}/\d{3,6}/[A-Z]{2,6}\b|\b[A-Z]{1,3}/\d{4}/\d{3,6}\b"),
    _rule("pcn", rf"\b(?P<ref>[A-Z]{{2}}{_OCR_DIGIT}{{7,8}}[A-Z]?)\b", flags=0, group="ref", starts="[A-Z]"),
    _rule("pcn", rf"\b(?:PCN|penalty charge(?: notice)?|ticket)\s*(?:no\.?|number|ref(?:erence)?)?\s*[:#]?\s*"
                 rf"(?P<ref>[A-Z]{{2}}\s?{_OCR_DIGIT}{{7,8}}[A-Z]?|{_OCR_DIGIT}{{8,10}})\b", group="ref"),
    _rule("council_tax_account",
          rf"\b(?:(?:council tax |CT |my )?(?:account|acc|a/c)|rhif (?:cyfrif|cyfeirnod))\s*(?:no\.?|n0\.?|number|"
          rf"num|ref(?:erence)?)?\s*(?:is\s*)?[:#]?\s*(?P<ref>{_OCR_DIGIT}{{2,4}}(?:\s?{_OCR_DIGIT}{{2,4}}){{1,3}})\b",
          group="ref"),
    _rule("postcode", r"\b(?P<pc>(?:GIR|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s?\d[ABD-HJLNP-UW-Z]{2})\b", group="pc"),
    _rule("phone", r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w])",
          starts="[+(0]"),
    _rule("money", r"£\s?\d[\d,]*(?:\.\d{1,2})?(?:\s?(?:k|m|bn)\b)?|\b\d[\d,]*(?:\.\d{2})?\s?(?:pounds|quid|GBP|punt)\b"
                   r"|\b\d+p\b(?=\s+(?:a|per|each|charge|fee|fine))", starts=r"[£\d]"),
    _rule("date", rf"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
                  rf"|\b\d{{1,2}}(?:st|nd|rd|th|af|ain|ydd|fed|eg)?\s+(?:of\s+)?(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}})?"
                  # the lookahead fails a word not followed by a number at once, before forty month names are tried
                  rf"|\b(?=[^\W\d_]+\.?\s+\d)(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"),
)
KINDS: tuple[str, ...] = tuple(dict.fromkeys(rule.kind for rule in RULES))
_DIGIT = re.compile(r"\d")
_WITHOUT_DIGITS = tuple(rule for rule in RULES if rule.kind == "email")
"""Every other rule needs a real digit (references must be mostly digits), and most short messages have none."""


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str
    """Normalised: postcodes upper-case with one space, references with OCR letters read as digits."""
    start: int
    end: int


def _normalise(kind: str, raw: str) -> str:
    raw = raw.strip()
    if kind == "postcode":
        compact = re.sub(r"\s+", "", raw).upper()
        return f"{compact[:-3]} {compact[-3:]}"
    if kind in ("case_ref", "pcn", "council_tax_account"):
        head, tail = (raw[:2], raw[2:]) if kind in ("case_ref", "pcn") and raw[:2].isalpha() else ("", raw)
        tail = tail.translate(str.maketrans("OoIl", "0011"))
        return (head.upper() + re.sub(r"\s+", "", tail)).upper()
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", raw)
        return digits.replace("+440", "+44")
    if kind == "email":
        return raw.lower()
    return re.sub(r"\s+", " ", raw)


def find_entities(text: str) -> list[Entity]:
    """Non-overlapping entities in text order; an earlier (more specific) rule wins a contested span."""
    taken: list[tuple[int, int]] = []
    found: list[Entity] = []
    lowered = text.lower()
    for rule in RULES if _DIGIT.search(text) else _WITHOUT_DIGITS:
        if not could_match(rule.needs, lowered):
            continue
        for match in rule.pattern.finditer(text):
            start, end = match.span(rule.group)
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if rule.kind in _REFERENCE_KINDS and not _mostly_digits(match.group(rule.group)):
                continue
            taken.append((start, end))
            found.append(Entity(rule.kind, _normalise(rule.kind, match.group(rule.group)), start, end))
    return sorted(found, key=lambda e: e.start)


_REFERENCE_KINDS = ("case_ref", "pcn", "council_tax_account")


def _mostly_digits(raw: str) -> bool:
    """OCR letters are allowed inside a reference, but real digits must still be the majority."""
    return sum(c.isdigit() for c in raw) * 2 > sum(c.isalnum() for c in raw)


def mask(text: str, entities: list[Entity]) -> str:
    """Replace each entity with its placeholder token, e.g. `ENT_POSTCODE`."""
    pieces, last = [], 0
    for entity in entities:
        pieces += [text[last:entity.start], f" ENT_{entity.kind.upper()} "]
        last = entity.end
    pieces.append(text[last:])
    return "".join(pieces)


def group_by_kind(entities: list[Entity]) -> dict[str, list[str]]:
    """The structured fields for `Prediction.entities`: kind -> distinct values in order of appearance."""
    grouped: dict[str, list[str]] = {}
    for entity in entities:
        values = grouped.setdefault(entity.kind, [])
        if entity.value not in values:
            values.append(entity.value)
    return grouped
