"""Labelled samples: reading the corpus, the fixed held-out split, and checking labels against the contract.

The split rule lives here and nowhere else, so training can never see a held-out
sample by accident and evaluation always judges the same ones.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from triage.classify.taxonomy import LABEL_HEADS, channels, ids

MINIMUM_PER_ID = {"service": 40, "contact_type": 60, "avoidable_reason": 80}
"""Samples each contract ID needs across the corpus (issue 3)."""
MINIMUM_URGENT = 150
MINIMUM_WELSH = 100
MINIMUM_TOTAL = 3000


@dataclass(frozen=True)
class Sample:
    id: str
    channel: str
    subject: str | None
    text: str
    service: str
    contact_type: str
    avoidable_reason: str
    urgent: bool
    language: str
    tags: tuple[str, ...] = ()

    def label(self, head: str) -> str | bool:
        return getattr(self, head)


class DataError(ValueError):
    """A corpus line is not a valid sample; names the file and line."""


def is_held_out(sample_id: str) -> bool:
    """The fixed split of training_data/README.md: about one sample in five, chosen by its id."""
    return int(hashlib.sha256(sample_id.encode("utf-8")).hexdigest(), 16) % 5 == 0


def parse_sample(record: dict, where: str) -> Sample:
    try:
        return Sample(
            id=str(record["id"]), channel=record["channel"], subject=record.get("subject"),
            text=record["text"], service=record["service"], contact_type=record["contact_type"],
            avoidable_reason=record["avoidable_reason"], urgent=bool(record["urgent"]),
            language=record["language"], tags=tuple(record.get("tags") or ()),
        )
    except (KeyError, TypeError) as exc:
        raise DataError(f"{where}: missing or malformed field {exc}") from None


def read_jsonl(path: Path) -> Iterator[Sample]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not JSON ({exc.msg})") from None
            yield parse_sample(record, f"{path}:{number}")


def corpus_files(data: Path) -> list[Path]:
    """A directory means every `*.jsonl` in it (and in `corpus/` under it); a file means itself."""
    data = Path(data)
    if data.is_file():
        return [data]
    files = sorted(data.glob("*.jsonl")) + sorted(data.glob("corpus/*.jsonl"))
    if not files:
        raise DataError(f"no *.jsonl files in {data}")
    return files


def load_samples(data: Path) -> list[Sample]:
    return [sample for path in corpus_files(data) for sample in read_jsonl(path)]


def split(samples: Iterable[Sample]) -> tuple[list[Sample], list[Sample]]:
    """(training, held_out) by the fixed rule."""
    train, held = [], []
    for sample in samples:
        (held if is_held_out(sample.id) else train).append(sample)
    return train, held


def data_hash(samples: Iterable[Sample]) -> str:
    """SHA-256 over the samples in id order, so the same data gives the same hash whatever the file layout."""
    digest = hashlib.sha256()
    for sample in sorted(samples, key=lambda s: s.id):
        row = [sample.id, sample.channel, sample.subject, sample.text, sample.service, sample.contact_type,
               sample.avoidable_reason, sample.urgent, sample.language]
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


@dataclass
class ValidationReport:
    """Errors make the data unusable; shortfalls are counts below the issue's minimums (training still runs)."""

    errors: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(samples: list[Sample]) -> ValidationReport:
    """Every label is a contract ID, ids are unique, and each ID has the samples the issue asks for."""
    report = ValidationReport()
    allowed = {head: set(ids(head)) for head in LABEL_HEADS}
    allowed["language"] = set(ids("language"))
    allowed["channel"] = set(channels())
    seen: Counter[str] = Counter(sample.id for sample in samples)
    report.errors += [f"duplicate id {sample_id} ({n} times)" for sample_id, n in seen.items() if n > 1]
    for sample in samples:
        for head, valid in allowed.items():
            value = getattr(sample, head)
            if value not in valid:
                report.errors.append(f"{sample.id}: {head} {value!r} is not a contract id")
        if not sample.text.strip():
            report.errors.append(f"{sample.id}: empty text")
    for head in (*LABEL_HEADS, "language", "channel"):
        counted = Counter(getattr(sample, head) for sample in samples)
        report.counts[head] = {label: counted.get(label, 0) for label in sorted(allowed[head])}
    report.counts["urgent"] = {"true": sum(s.urgent for s in samples), "false": sum(not s.urgent for s in samples)}
    for head, minimum in MINIMUM_PER_ID.items():
        for label, n in report.counts[head].items():
            if n < minimum:
                report.shortfalls.append(f"{head} {label}: {n} samples, the issue asks for {minimum}")
    for what, n, minimum in (("samples", len(samples), MINIMUM_TOTAL),
                             ("urgent samples", report.counts["urgent"]["true"], MINIMUM_URGENT),
                             ("Welsh samples", report.counts["language"].get("cy", 0), MINIMUM_WELSH)):
        if n < minimum:
            report.shortfalls.append(f"{what}: {n}, the issue asks for {minimum}")
    return report
