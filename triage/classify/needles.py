"""Needles: literal strings one of which every match of a regular expression contains.

A pattern searched for in vain still scans the whole text, and most messages match
none of the urgent, entity or disclaimer patterns. A substring test (or one
Aho-Corasick pass for many patterns) for the needles first skips those searches.
The needles are read off the parsed pattern, so they stay right when a pattern is
edited; where some way through a pattern has no literal, it gets none and is
always searched.
"""

from __future__ import annotations

import re

try:
    import re._constants as sre
    import re._parser as sre_parse
except ImportError:  # pragma: no cover - the parser is private to `re`; should a Python move it, no pattern
    sre = sre_parse = None  # gets needles and every one is always searched: slower, with the same matches


def needles(pattern: re.Pattern[str] | str, shortest: int = 1) -> frozenset[str] | None:
    """Lower-case strings, one of which is inside every match of `pattern` (lower-cased), or None.

    None also when the best set holds a string shorter than `shortest`: a short needle
    is in nearly every text and would skip nothing. A pattern given as its source need not be compiled.
    """
    if sre_parse is None:
        return None
    source, flags = (pattern, 0) if isinstance(pattern, str) else (pattern.pattern, pattern.flags)
    best = _best_requirement(list(sre_parse.parse(source, flags)))
    if not best or min(map(len, best)) < shortest:
        return None
    return frozenset(s.lower() for s in best)


def could_match(found: frozenset[str] | None, lowered: str) -> bool:
    """Whether a pattern with these needles could match `lowered` (lower-case text); None: it always could."""
    return found is None or any(map(lowered.__contains__, found))


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
