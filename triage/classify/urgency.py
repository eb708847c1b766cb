"""The maintained half of the urgent head: lexicon rules (English and Welsh) that say why a message is urgent.

The rules live in `urgent_lexicon.json` so the duty team's phrases can be added
without touching code; the model half (in `model.py`) catches what no rule names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("urgent_lexicon.json")


@dataclass(frozen=True)
class UrgentRule:
    reason: str
    groups: tuple[re.Pattern[str], ...]
    """Every group must match somewhere in the text for the rule to fire."""

    def fires(self, lowered: str) -> bool:
        """`lowered`: the text in lower case; the patterns are lower-cased to match (faster than re.I)."""
        return all(group.search(lowered) for group in self.groups)


@cache
def load_rules(path: Path = LEXICON_FILE) -> tuple[UrgentRule, ...]:
    lexicon = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(
        UrgentRule(reason, tuple(re.compile("|".join(f"(?:{_lower(p)})" for p in group)) for group in spec["all"]))
        for reason, spec in lexicon["reasons"].items()
    )


def _lower(pattern: str) -> str:
    """The pattern's letters in lower case, its escapes (`\\b`, `\\W`) untouched."""
    return re.sub(r"\\.|[^\\]+", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(),
                  pattern)


def urgent_reasons(text: str, rules: tuple[UrgentRule, ...] | None = None) -> tuple[str, ...]:
    """Names of the lexicon rules the text triggers, e.g. `("gas_leak",)`; empty when none does."""
    lowered = text.replace("’", "'").lower()
    return tuple(rule.reason for rule in (rules or load_rules()) if rule.fires(lowered))
