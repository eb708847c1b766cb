"""`triage worker`: an RQ worker on the triage, outbound and maintenance queues."""

from __future__ import annotations

import argparse

HELP = "Run a worker on the triage, outbound and maintenance queues (needs TRIAGE_REDIS_URL)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", default=None, help="worker name (default: host and pid)")


def run(args: argparse.Namespace) -> int:
    from rq import Worker

    from triage.cli.common import log, redis_queue, runtime_for, start
    from triage.queue import QUEUE_NAMES

    settings = start()
    queue = redis_queue(settings)
    rt = runtime_for(settings, queue)
    if rt.classifier is not None:
        rt.classifier.warm_up()  # loaded and built once here, so that every forked job shares it
    log.info("worker starting", extra={"queue": ",".join(QUEUE_NAMES)})
    worker = Worker(list(QUEUE_NAMES), connection=queue.connection, name=args.name)
    worker.work(with_scheduler=True, burst=args.burst, logging_level=settings.log_level)
    return 0
