"""`triage sweep`: run the maintenance sweeps once (the scheduler runs them continuously)."""

from __future__ import annotations

import argparse

HELP = "Run a maintenance sweep once: `pending` re-queues stranded work, `sla` flags deadlines."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("which", choices=["pending", "sla"])


def run(args: argparse.Namespace) -> int:
    from triage.cli.common import redis_queue, runtime_for, start
    from triage.jobs import flag_sla, requeue_stranded

    settings = start()
    rt = runtime_for(settings, redis_queue(settings))
    count = requeue_stranded(rt) if args.which == "pending" else flag_sla(rt)
    print(count)
    return 0
