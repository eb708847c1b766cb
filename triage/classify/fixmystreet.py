"""Real residents' words for measuring generalisation: FixMyStreet reports with a mapped `service`.

The mapping from council category names to taxonomy IDs is data
(`fms_category_map.json`), with a reason for each rule; categories that name no
service are left out rather than guessed.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MAP_FILE = Path(__file__).with_name("fms_category_map.json")


@dataclass(frozen=True)
class Report:
    id: str
    text: str
    category: str
    service: str


@cache
def _rules() -> tuple[tuple[re.Pattern[str], str | None], ...]:
    spec = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    return tuple((re.compile(rule["pattern"], re.I), rule["service"]) for rule in spec["rules"])


def map_category(category: str) -> str | None:
    """The taxonomy service of a raw FixMyStreet category, or None when it names no single service."""
    for pattern, service in _rules():
        if pattern.search(category):
            return service
    return None


def load_reports(path: Path, *, per_service: int | None = None, seed: int = 0) -> list[Report]:
    """Mapped reports from a FixMyStreet JSONL(.gz) file.

    `per_service` draws a reproducible sample of at most that many per service, so the
    thin services (bins, parking) weigh as much as fly-tipping, which is most of the feed.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    reports = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            service = map_category(record.get("category") or "")
            if service is None:
                continue
            text = f"{record.get('title') or ''}\n{record.get('detail') or ''}".strip()
            reports.append(Report(str(record["id"]), text, record["category"], service))
    if per_service is None:
        return reports
    rng = random.Random(seed)
    sample: list[Report] = []
    for service in sorted({r.service for r in reports}):
        group = [r for r in reports if r.service == service]
        sample += rng.sample(group, min(per_service, len(group)))
    return sample
