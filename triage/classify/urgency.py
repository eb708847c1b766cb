"""The maintained half of the urgent head: lexicon rules, in English, Welsh and the other languages residents
write in, that say why a message is urgent.

The rules live in `urgent_lexicon.json` so the duty team's phrases can be added
without touching code; the model half (in `model.py`) catches what no rule names.
The model reads English and Welsh well and most other languages hardly at all, so
in those languages the rules carry the urgent head.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import ahocorasick

from triage.classify.needles import needles

LEXICON_FILE = Path(__file__).with_name("urgent_lexicon.json")
SHORTEST_NEEDLE = 3
"""A phrase gets needles only if each has at least this many characters (shorter ones are in nearly every
text, and would only add hits)."""


class Phrase:
    """One entry of the lexicon: a pattern (lower-cased, as the text it is searched in), and the needles one of
    which every match of it contains.

    The pattern is compiled the first time a text holds one of its needles: most phrases, in languages a
    worker rarely meets, never are, and compiling all of them took 1-2 s and about 15 MB per worker.
    """

    def __init__(self, source: str):
        self.source = source
        self.needles: frozenset[str] | None = needles(source, SHORTEST_NEEDLE)
        """See `needles.py`; None when not derivable (the phrase is then always searched)."""

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.source)


@dataclass(frozen=True)
class UrgentRule:
    reason: str
    groups: tuple[tuple[int, ...], ...]
    """Each group is phrases (indices into `Lexicon.phrases`); one phrase of every group must match."""


@dataclass(frozen=True)
class Lexicon:
    """The rules, and what lets most of them be skipped.

    Most messages trigger no rule, and a regular expression searched for in vain
    still scans the whole text. One Aho-Corasick pass finds which phrases' needles
    are in the text, and only those phrases are searched for.
    """

    rules: tuple[UrgentRule, ...]
    phrases: tuple[Phrase, ...]
    automaton: ahocorasick.Automaton
    """needle -> indices of the phrases it stands for."""
    always: frozenset[int]
    """Phrases without needles."""
    rule_of: tuple[int, ...]
    """phrase index -> index of its rule: only rules with a candidate phrase are tried."""

    def candidates(self, lowered: str) -> set[int]:
        """Indices of the phrases that could match `lowered` (lower-case text)."""
        live = set(self.always)
        for _, phrases in self.automaton.iter(lowered):
            live.update(phrases)
        return live

    def fires(self, rule: UrgentRule, lowered: str, live: set[int]) -> bool:
        return all(any(self.phrases[i].pattern.search(lowered) for i in live.intersection(group))
                   for group in rule.groups)

    def compile_all(self) -> None:
        """Compile every phrase now instead of on first use (see `Phrase`)."""
        for phrase in self.phrases:
            phrase.pattern  # noqa: B018 - reading the cached property compiles it


PHRASES_TRIED = {"en": ("en",), "cy": ("en", "cy")}
"""For a message in English or Welsh, the languages whose own phrases (`also`) are tried; a message in any
other language tries all of them. The shared rules (`all`) are always tried. Most mail is English, and
thousands of phrases in twenty-odd languages would otherwise triple the time every message spends here and
the time a worker takes to start (they are compiled on the first message that needs them)."""


def load_lexicon(path: Path = LEXICON_FILE, language: str = "other") -> Lexicon:
    """The rules tried for a message in `language` (see `PHRASES_TRIED`), built once per file and scope
    however the arguments are passed (a cache keyed on them as passed built a second copy for a keyword call)."""
    # every message comes here: re-parsing a path that already is one cost about 1% of classifying
    return _built_lexicon(path if isinstance(path, Path) else Path(path), language)


@cache
def _built_lexicon(path: Path, language: str) -> Lexicon:
    lexicon = json.loads(path.read_text(encoding="utf-8"))
    tried = PHRASES_TRIED.get(language)
    phrases: list[Phrase] = []
    rules = []

    shared = lexicon.get("shared", {})

    def group(alternatives: list[str]) -> tuple[int, ...]:
        # lower-cased to match lower-cased text: faster than re.I
        phrases.extend(_phrase(_lower(_resolved(p, shared, path))) for p in alternatives)
        return tuple(range(len(phrases) - len(alternatives), len(phrases)))

    for reason, spec in lexicon["reasons"].items():
        if "all" in spec:
            rules.append(UrgentRule(reason, tuple(group(alternatives) for alternatives in spec["all"])))
        for phrase_language, entries in spec.get("also", {}).items():
            if tried is not None and phrase_language not in tried:
                continue
            for entry in entries:
                parts = entry if isinstance(entry, list) else [entry]
                rules.append(UrgentRule(reason, tuple(group([part]) for part in parts)))
    stands_for: dict[str, list[int]] = {}
    for i, phrase in enumerate(phrases):
        for needle in phrase.needles or ():
            stands_for.setdefault(needle, []).append(i)
    automaton = ahocorasick.Automaton()
    for needle, indices in stands_for.items():
        automaton.add_word(needle, tuple(indices))
    automaton.make_automaton()
    rule_of = tuple(r for r, rule in enumerate(rules) for group in rule.groups for _ in group)
    return Lexicon(tuple(rules), tuple(phrases), automaton,
                   frozenset(i for i, phrase in enumerate(phrases) if phrase.needles is None), rule_of)


def _resolved(pattern: str, shared: dict[str, str], path: Path) -> str:
    """`@name` stands for the lexicon's `shared[name]`: a language's list of vulnerable people, say, which each
    of its hazards pairs with, is written (and corrected) once."""
    if not pattern.startswith("@"):
        return pattern
    try:
        return shared[pattern[1:]]
    except KeyError:
        raise ValueError(f"{path.name}: {pattern} names no pattern in `shared`") from None


@cache
def _phrase(source: str) -> Phrase:
    """One `Phrase` per pattern, shared by every scope that holds it: an English phrase compiled before a worker
    forks (see `compile_common_scopes`) is then compiled for a message in another language too, not again."""
    return Phrase(source)


def compile_common_scopes() -> None:
    """Compile the English and Welsh scopes' phrases (about 500, 60 ms) before an RQ worker forks.

    Nearly every message reaches them, and a phrase compiled in a forked job is thrown away with the job, so
    each job would compile its own few again. The other languages' 4,000-odd phrases stay lazy: compiling them
    all takes a second and about 15 MB, for messages a worker rarely meets.
    """
    for language in PHRASES_TRIED:
        load_lexicon(LEXICON_FILE, language).compile_all()


def _lower(pattern: str) -> str:
    """The pattern's letters in lower case, its escapes (`\\b`, `\\W`) untouched."""
    return re.sub(r"\\.|[^\\]+", lambda m: m.group(0) if m.group(0).startswith("\\") else m.group(0).lower(),
                  pattern)


def urgent_reasons(text: str, language: str = "other", lexicon: Lexicon | None = None) -> tuple[str, ...]:
    """Names of the lexicon rules the text (in `language`: en, cy or other) triggers, e.g. `("gas_leak",)`;
    empty when none does."""
    lexicon = lexicon or load_lexicon(LEXICON_FILE, language)
    lowered = text.replace("’", "'").lower()
    live = lexicon.candidates(lowered)
    tried = (lexicon.rules[r] for r in sorted({lexicon.rule_of[i] for i in live}))
    fired: list[str] = []
    for rule in tried:
        if rule.reason not in fired and lexicon.fires(rule, lowered, live):
            fired.append(rule.reason)
    return tuple(fired)
