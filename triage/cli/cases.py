"""`triage cases list`: the work queue, urgent first, then by deadline."""

from __future__ import annotations

import argparse
import json

HELP = "List cases: open ones by default, urgent first, then by deadline."

FIELDS = ("reference", "status", "channel", "service", "contact_type", "avoidable_reason", "urgent",
          "language", "needs_interpretation", "priority", "sla_state", "assignee", "received_at",
          "processed_by", "respond_by", "promised_by", "processed_at", "responded_at", "resolved_at",
          "resolution")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list"])
    parser.add_argument("--json", action="store_true", help="one JSON object per case per line")
    parser.add_argument("--all", action="store_true", help="include closed cases")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from triage.cli.common import start
    from triage.store.db import make_engine, session_factory
    from triage.store.models import Case

    settings = start(log_format="text")
    sessions = session_factory(make_engine(settings.effective_database_url))
    query = select(Case).order_by(Case.priority, Case.respond_by, Case.id)
    if not args.all:
        query = query.where(Case.status != "closed")
    with sessions() as session:
        rows = [case_row(case) for case in session.scalars(query)]
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['reference']:10} {row['status']:8} {'URGENT ' if row['urgent'] else ''}"
                  f"{row['service'] or '-':22} {row['contact_type'] or '-':20} respond by {row['respond_by']}")
    return 0


def case_row(case) -> dict:
    row = {}
    for name in FIELDS:
        value = getattr(case, name)
        row[name] = value.isoformat() if hasattr(value, "isoformat") else value
    row["respond_by_measured"] = case.measured_respond_by.isoformat() if case.measured_respond_by else None
    return row
