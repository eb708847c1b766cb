"""Versioned models on disk: `models/<version>/` plus a `models/CURRENT` pointer file.

Every change of the pointer is appended to `models/HISTORY.jsonl`; replaying it
gives the stack of promotions, so `rollback` returns to whatever was current
before, however many promotions and rollbacks came first.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HISTORY_FILE = "HISTORY.jsonl"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ModelNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ModelEntry:
    version: str
    created: str
    summary: dict
    current: bool


def current_version(model_dir: Path) -> str:
    pointer = Path(model_dir) / "CURRENT"
    if not pointer.exists():
        raise ModelNotFound(f"no current model in {model_dir}")
    return pointer.read_text(encoding="utf-8").strip()


def model_path(model_dir: Path, version: str | None = None) -> Path:
    version = version or current_version(model_dir)
    if not _VERSION.match(version):
        raise ModelNotFound(f"{version!r} is not a model version")
    path = Path(model_dir) / version
    if not path.is_dir():
        raise ModelNotFound(f"model {version} not found in {model_dir}")
    return path


def new_version(model_dir: Path, now: datetime | None = None) -> str:
    """A sortable, unique name such as `20261123-204512`."""
    base = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    version, n = base, 1
    while (Path(model_dir) / version).exists():
        n += 1
        version = f"{base}-{n}"
    return version


def list_models(model_dir: Path) -> list[ModelEntry]:
    from triage.classify.persistence import CARD_FILE

    try:
        current = current_version(model_dir)
    except ModelNotFound:
        current = None
    entries = []
    for card_path in sorted(Path(model_dir).glob(f"*/{CARD_FILE}")):
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            card = {}
        version = card_path.parent.name
        entries.append(ModelEntry(version, card.get("created", "?"), card.get("summary", {}), version == current))
    return entries


def set_current(model_dir: Path, version: str, *, action: str, actor: str = "cli", note: str = "") -> None:
    """Point CURRENT at `version` (atomically) and record why in the history."""
    model_path(model_dir, version)
    try:
        previous = current_version(model_dir)
    except ModelNotFound:
        previous = None
    pointer = Path(model_dir) / "CURRENT"
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, pointer)
    record = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "action": action, "version": version,
              "previous": previous, "actor": actor, "note": note}
    with open(Path(model_dir) / HISTORY_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def promotion_stack(model_dir: Path) -> list[str]:
    """Versions made current by promotion, oldest first, with rolled-back ones removed."""
    stack: list[str] = []
    path = Path(model_dir) / HISTORY_FILE
    if not path.exists():
        return stack
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["action"] == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(record["version"])
    return stack


def rollback(model_dir: Path, *, actor: str = "cli") -> str:
    """Make the previously promoted model current again; returns its version."""
    stack = promotion_stack(model_dir)
    if len(stack) < 2:
        raise ModelNotFound("nothing to roll back to: no earlier promoted model in the history")
    target = stack[-2]
    set_current(model_dir, target, action="rollback", actor=actor, note=f"from {stack[-1]}")
    return target
