"""`triage deadlines`: the processing and response dates for given receipt times."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

HELP = "Print processed_by and respond_by for each receipt TIMESTAMP (ISO 8601 with a UTC offset)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("timestamps", nargs="+", metavar="TIMESTAMP",
                        help="e.g. 2026-12-24T16:30:00+00:00 or 2026-07-01T00:10:00Z")
    parser.add_argument("--region", default=None,
                        help="england-and-wales (default, or TRIAGE_REGION), scotland, northern-ireland")


def run(args: argparse.Namespace) -> int:
    from triage.cli import UserError
    from triage.deadlines import REGION_SUBDIVISIONS, compute_deadlines

    region = args.region
    if region is None:
        from triage.config import load_settings

        region = load_settings().region
    if region not in REGION_SUBDIVISIONS:
        raise UserError(f"unknown region {region!r}: choose from {', '.join(REGION_SUBDIVISIONS)}")
    received = [(raw, _parse(raw)) for raw in args.timestamps]
    for raw, moment in received:
        deadlines = compute_deadlines(moment, region)
        print(json.dumps({"received": raw, "region": region,
                          "processed_by": deadlines.processed_by.isoformat(),
                          "respond_by": deadlines.respond_by.isoformat()}))
    return 0


def _parse(raw: str) -> datetime:
    from triage.cli import UserError

    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise UserError(f"not an ISO 8601 timestamp: {raw!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UserError(f"timestamp has no UTC offset: {raw!r} (add Z or +01:00)")
    return moment
