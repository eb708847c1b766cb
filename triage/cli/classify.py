"""`triage classify`: label messages from JSONL, one output line per input line (the acceptance contract)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator

HELP = "Classify JSONL messages ({id, channel, subject?, text} per line) from FILE or - (stdin)."
BATCH = 256


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.jsonl", help="input file, or - for standard input")
    parser.add_argument("--model", metavar="VERSION", help="model version (default: the current one)")


def run(args: argparse.Namespace) -> int:
    from triage.cli import UserError
    from triage.cli.common import load_model
    from triage.config import load_settings

    settings = load_settings()
    model = load_model(settings.model_dir, args.model)
    try:
        handle = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
    bad = 0
    with handle:
        for batch in _batches(_numbered(handle), BATCH):
            good = []
            for number, parsed in batch:
                if isinstance(parsed, str):
                    bad += 1
                    print(f"triage classify: line {number}: {parsed}", file=sys.stderr)
                else:
                    good.append(parsed)
            thresholds = getattr(model, "card", {}).get("thresholds")
            for record, prediction in zip(good, model.predict_many([m for _, m in good]), strict=True):
                print(json.dumps(output_line(record[0], prediction, thresholds), ensure_ascii=False))
            sys.stdout.flush()
    return 1 if bad else 0


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """(line number, ((id, Message)) or an error text) for each non-blank line."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, parse_line(line)


def parse_line(line: str):
    from triage.classify.model import Message
    from triage.classify.taxonomy import channels

    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(record, dict):
        return "not a JSON object"
    where = f" (id {record['id']!r})" if "id" in record else ""
    if "id" not in record:
        return "missing field: id"
    if not isinstance(record.get("text"), str) or not record["text"].strip():
        return f"missing or empty field: text{where}"
    if record.get("channel") not in channels():
        return f"channel must be one of {', '.join(channels())}, got {record.get('channel')!r}{where}"
    subject = record.get("subject")
    if subject is not None and not isinstance(subject, str):
        return f"subject must be a string or null{where}"
    return record["id"], Message(record["text"], record["channel"], subject)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def output_line(message_id, prediction, thresholds=None) -> dict:
    return {
        "id": message_id,
        "service": prediction.service,
        "contact_type": prediction.contact_type,
        "avoidable_reason": prediction.avoidable_reason,
        "urgent": prediction.urgent,
        "language": prediction.language,
        "confidence": {head: prediction.confidence[head]
                       for head in ("service", "contact_type", "avoidable_reason")},
        "action": _action(prediction, thresholds),
    }


def _action(prediction, thresholds) -> str:
    """What the decision policy (triage.decide) would do on these labels alone, with the card's thresholds."""
    from triage.decide import action_for_labels

    return action_for_labels(prediction.service, prediction.contact_type, prediction.avoidable_reason,
                             prediction.urgent, prediction.language, prediction.confidence, thresholds)
