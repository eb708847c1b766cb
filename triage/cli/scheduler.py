"""`triage scheduler`: RQ's cron scheduler for the sweeps. Run exactly one per installation."""

from __future__ import annotations

import argparse

HELP = "Run the scheduler that queues the pending sweeper and the SLA sweep (one per installation)."

PENDING_EVERY = 30
"""Seconds between sweeps for stored work that is not on the queue."""
SLA_EVERY = 300
"""Seconds between deadline sweeps."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pending-every", type=int, default=PENDING_EVERY, metavar="SECONDS")
    parser.add_argument("--sla-every", type=int, default=SLA_EVERY, metavar="SECONDS")


def run(args: argparse.Namespace) -> int:
    from rq.cron import CronScheduler

    from triage.cli.common import redis_queue, start
    from triage.jobs import sweep_pending, sweep_sla

    settings = start()
    queue = redis_queue(settings)
    cron = CronScheduler(connection=queue.connection, logging_level=settings.log_level)
    cron.register(sweep_pending, queue_name="maintenance", interval=args.pending_every, job_timeout=120)
    cron.register(sweep_sla, queue_name="maintenance", interval=args.sla_every, job_timeout=300)
    cron.start()
    return 0
