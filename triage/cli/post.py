"""`triage post`: the scanned-post drop folder, taking files by hand, and reading one without storing it.

`triage run` already watches TRIAGE_POST_INBOX; `watch` runs the watcher as its
own process beside `triage worker`. `ingest` is also how a file refused earlier
is tried again after it was fixed: it ignores the earlier refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Scanned post: `watch` TRIAGE_POST_INBOX, `ingest FILE...` now, or `read FILE` (OCR only, nothing stored)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["watch", "ingest", "read"])
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="scan files (PDF, TIFF, PNG, JPEG)")


def run(args: argparse.Namespace) -> int:
    from triage.cli import UserError

    if args.action == "watch":
        if args.files:
            raise UserError("`watch` takes no files (it watches TRIAGE_POST_INBOX)")
        return _watch()
    if not args.files:
        raise UserError(f"`{args.action}` needs at least one FILE")
    for path in args.files:
        if not path.is_file():
            raise UserError(f"no such file: {path}")
    return _ingest(args.files) if args.action == "ingest" else _read(args.files)


def _watch() -> int:
    from triage.cli import UserError
    from triage.cli.common import redis_queue, runtime_for, start
    from triage.cli.serving import serve_until_signalled
    from triage.connectors.post.watcher import PostWatcher

    settings = start()
    if settings.post_inbox is None:
        raise UserError("TRIAGE_POST_INBOX is not set")
    rt = runtime_for(settings, redis_queue(settings))
    serve_until_signalled(PostWatcher.for_runtime(rt))
    return 0


def _ingest(files: list[Path]) -> int:
    """Take each file now, one JSON line each; exit 1 if any was refused or could not be stored."""
    from datetime import UTC, datetime

    from triage.cli.common import redis_queue, runtime_for, start
    from triage.connectors.post.desk import PostDesk
    from triage.connectors.post.files import BadScan
    from triage.connectors.post.watcher import FAILED, PROCESSED, record_outcome
    from triage.intake import IntakeUnavailable
    from triage.message import sha256_hex

    settings = start(log_format="text")
    rt = runtime_for(settings, redis_queue(settings))
    desk = PostDesk.build(settings, rt.intake, rt.sessions, rt.council)
    status = 0
    for path in files:
        data = path.read_bytes()
        sha = sha256_hex(data)
        try:
            taken = desk.take(data, path.name, datetime.now(UTC))
        except BadScan as refusal:
            record_outcome(rt.sessions, sha, path.name, FAILED, f"{refusal.code}: {refusal.detail}", None)
            print(json.dumps({"file": str(path), "outcome": "failed", "reason": refusal.code,
                              "detail": refusal.detail, "sha256": sha}))
            status = 1
            continue
        except IntakeUnavailable as exc:
            print(f"triage post: {path} not stored, storage unavailable: {str(exc)[:200]}", file=sys.stderr)
            return 1
        record_outcome(rt.sessions, sha, path.name, PROCESSED, None, taken.message_id)
        print(json.dumps({"file": str(path), "outcome": "stored" if taken.created else "already stored",
                          "message_id": taken.message_id, "sha256": sha, "pages": taken.pages,
                          "needs_reading": taken.needs_reading}))
    return status


def _read(files: list[Path]) -> int:
    """Print what OCR and the field finder make of each file (for checking a scanner's settings)."""
    from triage.config import load_settings
    from triage.connectors.post.files import BadScan
    from triage.connectors.post.letter_fields import OwnDetails, extract
    from triage.connectors.post.reader import ScanReader
    from triage.council import load_council

    settings = load_settings()
    reader = ScanReader.from_settings(settings)
    own = OwnDetails.from_council(load_council(settings.council_file).raw)
    status = 0
    for path in files:
        try:
            scan = reader.read(path.read_bytes())
        except BadScan as refusal:
            print(json.dumps({"file": str(path), "outcome": "failed", "reason": refusal.code,
                              "detail": refusal.detail}))
            status = 1
            continue
        fields = extract(scan.text, own)
        print(json.dumps({
            "file": str(path), "kind": scan.file.kind, "needs_reading": scan.needs_reading,
            "pages": [{**page.meta(), "text": page.text} for page in scan.pages],
            "name": fields.name, "address": list(fields.address),
            "contact_points": [{"kind": c.kind, "value": c.value} for c in fields.contact_points],
            **fields.meta(), "subject": fields.subject,
        }, ensure_ascii=False))
    return status
