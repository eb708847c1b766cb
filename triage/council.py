"""The council's own details and deadline policies, read from a TOML file.

Kept apart from `Settings` because it is content (names, numbers, URLs, policy)
that a council edits as a document, not deployment plumbing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from triage.config import ConfigError
from triage.deadlines import PolicyTable

DEFAULT_FILE = Path(__file__).with_name("council_default.toml")


@dataclass(frozen=True)
class Council:
    details: Mapping[str, object]
    deadlines: PolicyTable
    raw: Mapping[str, object] = field(default_factory=dict)

    def get(self, key: str, default: object = None) -> object:
        return self.details.get(key, default)


def load_council(path: Path | None = None) -> Council:
    path = path or DEFAULT_FILE
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"TRIAGE_COUNCIL_FILE: no such file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TRIAGE_COUNCIL_FILE: {path} is not valid TOML ({exc})") from None
    return Council(
        details=data.get("council", {}),
        deadlines=PolicyTable.from_config(data.get("deadlines", [])),
        raw=data,
    )
