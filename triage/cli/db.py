"""`triage db`: create or upgrade the database schema."""

from __future__ import annotations

import argparse

HELP = "Database schema: `upgrade` to the latest migration, `current` to show the revision."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade", "current"])


def run(args: argparse.Namespace) -> int:
    from triage.cli.common import start
    from triage.store.db import current_revision, make_engine

    settings = start(log_format="text")
    if args.action == "current":
        print(current_revision(make_engine(settings.effective_database_url)))
    return 0
