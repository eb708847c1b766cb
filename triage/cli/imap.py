"""`triage imap`: read a shared mailbox (it also runs inside `triage run` when TRIAGE_IMAP_URL is set)."""

from __future__ import annotations

import argparse
import sys

HELP = "Take mail from the IMAP mailbox in TRIAGE_IMAP_URL (needs TRIAGE_REDIS_URL)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="take the unseen mail once, print the count, exit")


def run(args: argparse.Namespace) -> int:
    from triage.cli.common import redis_queue, runtime_for, start
    from triage.cli.serving import serve_until_signalled
    from triage.connectors.email.imap_poller import CONNECTION_ERRORS, ImapPoller
    from triage.intake import IntakeUnavailable

    settings = start()
    rt = runtime_for(settings, redis_queue(settings))
    poller = ImapPoller.from_settings(settings, rt.intake)
    if not args.once:
        serve_until_signalled(poller)
        return 0
    try:
        taken = poller.run_once()
    except (IntakeUnavailable, *CONNECTION_ERRORS) as exc:
        print(f"triage imap: mail left in the mailbox: {exc.__class__.__name__}: {str(exc)[:200]}", file=sys.stderr)
        return 1
    print(taken)
    return 0
