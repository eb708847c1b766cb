"""The label contract (shared/taxonomy.md) as data: IDs, display names and descriptions."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.json")
LABEL_HEADS = ("service", "contact_type", "avoidable_reason")
"""The heads whose answer is one ID of a taxonomy family."""


@cache
def taxonomy() -> dict:
    return json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))


def ids(family: str) -> tuple[str, ...]:
    """Contract IDs of a family (`service`, `contact_type`, `avoidable_reason`, `language`) in order."""
    return tuple(entry["id"] for entry in taxonomy()[family])


def channels() -> tuple[str, ...]:
    return tuple(taxonomy()["channel"])

