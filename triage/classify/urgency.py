"""The maintained half of the urgent head: lexicon rules (English and Welsh) that say why a message is urgent.

The rules live in `urgent_lexicon.json` so the duty team's phrases can be added
without touching code; the model half (in `model.py`) catches what no rule names.
"""

from __future__ import annotations

import json
import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ahocorasick

LEXICON_FILE = Path(__file__).with_name("urgent_lexicon.json")
SHORTEST_NEEDLE = 3
"""A group gets a gate only if each of its needles has at least this many characters (shorter ones are
in nearly every text, and would only add hits)."""


@dataclass(frozen=True)
class UrgentGroup:
    pattern: re.Pattern[str]
    needles: frozenset[str] | None
    """Strings one of which every match of `pattern` contains (see `_needles`); None when not derivable."""


@dataclass(frozen=True)
class UrgentRule:
    reason: str
    groups: tuple[UrgentGroup, ...]
    """Every group must match somewhere in the text for the rule to fire."""

    def fires(self, lowered: str, present: set[str]) -> bool:
        """`lowered`: the text in lower case (the patterns are lower-cased to match: faster than re.I);
        `present`: the lexicon's needles found in it (`Lexicon.present`)."""
        for group in self.groups:
            if group.needles is not None and group.needles.isdisjoint(present) or not group.pattern.search(lowered):
                return False
        return True


@dataclass(frozen=True)
class Lexicon:
    rules: tuple[UrgentRule, ...]
    automaton: ahocorasick.Automaton
    """Every needle of every gated group, found in one pass over the text."""

    def present(self, lowered: str) -> set[str]:
        return {needle for _, needle in self.automaton.iter(lowered)}


@cache
def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    lexicon = json.loads(Path(path).read_text(encoding="utf-8"))
    rules = []
    for reason, spec in lexicon["reasons"].items():
        groups = []
        for alternatives in spec["all"]:
            pattern = "|".join(f"(?:{_lower(p)})" for p in alternatives)
            groups.append(UrgentGroup(re.compile(pattern), _needles(pattern)))
        rules.append(UrgentRule(reason, tuple(groups)))
    automaton = ahocorasick.Automaton()
    for needle in {n for rule in rules for group in rule.groups for n in group.needles or ()}:
        automaton.add_word(needle, needle)
    automaton.make_automaton()
    return Lexicon(tuple(rules), automaton)


def load_rules(path: Path = LEXICON_FILE) -> tuple[UrgentRule, ...]:
    return load_lexicon(path).rules


def _lower(pattern: str) -> str:
    """The pattern's letters in lower case, its escapes (`\\b`, `\\W`) untouched."""
    return re.sub(r"\\.|[^\\]+", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(),
                  pattern)


def _needles(pattern: str) -> frozenset[str] | None:
    """Literal strings, one of which is inside every match of `pattern`, or None.

    Most messages trigger no rule, and a regular expression searched for in vain
    still scans the whole text; looking for the needles of every rule in one pass
    first skips most of those searches. They are read off the parsed pattern, so
    they hold for any phrase the duty team adds; a pattern in which some way through
    has no literal of `SHORTEST_NEEDLE` characters is simply always searched.
    """
    best = _best_requirement(list(sre_parse.parse(pattern)))
    return frozenset(best) if best and min(map(len, best)) >= SHORTEST_NEEDLE else None


def _best_requirement(items: list) -> set[str] | None:
    """Of the requirements of `items`, the one with the longest shortest string (the likeliest to be rare)."""
    requirements = _requirements(items)
    return max(requirements, key=lambda strings: (min(map(len, strings)), -len(strings)), default=None)


def _requirements(items: list) -> list[set[str]]:
    """Sets of strings such that every match of `items` contains one string of each set."""
    found: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is sre.LITERAL:
            run += chr(av)
            continue
        if run:
            found.append({run})
            run = ""
        if op is sre.SUBPATTERN:
            found += _requirements(list(av[-1]))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            found += _requirements(list(av[2]))
        elif op is sre.BRANCH:
            branches = [_best_requirement(list(branch)) for branch in av[1]]
            if all(branches):
                found.append(set().union(*branches))
    if run:
        found.append({run})
    return found


def urgent_reasons(text: str, lexicon: Lexicon | None = None) -> tuple[str, ...]:
    """Names of the lexicon rules the text triggers, e.g. `("gas_leak",)`; empty when none does."""
    lexicon = lexicon or load_lexicon()
    lowered = text.replace("’", "'").lower()
    present = lexicon.present(lowered)
    return tuple(rule.reason for rule in lexicon.rules if rule.fires(lowered, present))
