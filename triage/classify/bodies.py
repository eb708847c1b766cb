"""Mentions of organisations that are not the council: the DVLA, a water company, a housing association.

Which body does a job is world knowledge that training data cannot hold for every
organisation in the country. The directory in `outside_bodies.json` supplies it, and
mentions become one token per kind of body, so a message about an energy network
the writers never named still reads as one about a utility.

Matching is a word-by-word phrase lookup rather than a regular expression: there are
hundreds of names, and one pass over the words costs a few microseconds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DIRECTORY_FILE = Path(__file__).with_name("outside_bodies.json")
_WORD = re.compile(r"[^\W_]+|&")


@dataclass(frozen=True)
class Directory:
    phrases: dict[tuple[str, ...], str]
    """Lower-case words of a name -> its kind."""
    starts: frozenset[str]
    """First words of the phrases: a message word not in here cannot begin a mention."""
    longest: int
    acronyms: dict[str, str]
    """Capitalised acronyms (`UC`, `PIP`) -> kind; in lower case they are ordinary words."""


@cache
def load_directory(path: Path = DIRECTORY_FILE) -> Directory:
    kinds = json.loads(Path(path).read_text(encoding="utf-8"))["kinds"]
    phrases = {tuple(_WORD.findall(name.lower())): kind for kind, spec in kinds.items() for name in spec["names"]}
    acronyms = {name: kind for kind, spec in kinds.items() for name in spec.get("exact_case", ())}
    return Directory(phrases, frozenset(words[0] for words in phrases), max(map(len, phrases)), acronyms)


def find_bodies(text: str, directory: Directory | None = None) -> list[tuple[str, str]]:
    """(kind, name as written) for each mention, in text order, longest name first at each word."""
    directory = directory or load_directory()
    words = _WORD.findall(text)
    lowered = [w.lower() for w in words]
    found: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        span = 0
        if lowered[i] in directory.starts:
            span = next((n for n in range(min(directory.longest, len(words) - i), 0, -1)
                         if tuple(lowered[i:i + n]) in directory.phrases), 0)
        if span:
            found.append((directory.phrases[tuple(lowered[i:i + span])], " ".join(words[i:i + span])))
            i += span
            continue
        if words[i] in directory.acronyms:
            found.append((directory.acronyms[words[i]], words[i]))
        i += 1
    return found


def body_tokens(found: list[tuple[str, str]]) -> str:
    """The feature tokens for the models: one `OUTSIDE_<KIND>` per kind mentioned."""
    return " ".join(f"OUTSIDE_{kind.upper()}" for kind in dict.fromkeys(kind for kind, _ in found))
