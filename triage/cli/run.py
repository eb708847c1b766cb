"""`triage run`: the whole service in one process tree.

The web application (webhooks, chat, staff pages, health, metrics) and the
connectors' listeners run in this process; the worker and the scheduler run as
child processes against the same Redis. Without `TRIAGE_REDIS_URL` it starts a
private redis-server if one is installed, else it falls back to an in-process
queue, and says which in the log.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Protocol

HELP = "Run the whole service: web app, SMTP server, worker, scheduler and post watcher."


class Service(Protocol):
    """A listener started beside the web application (SMTP server, IMAP poller, post watcher...)."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http-port", type=int, default=None, help="web application port (TRIAGE_HTTP_PORT)")
    parser.add_argument("--smtp-port", type=int, default=None, help="inbound SMTP port (TRIAGE_SMTP_PORT)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from triage.cli.common import log, runtime_for, start
    from triage.queue import InProcessQueue, LocalRedis, RQJobQueue
    from triage.web.app import create_app

    overrides = {k: v for k, v in {"http_port": args.http_port, "smtp_port": args.smtp_port}.items() if v}
    settings = start(**overrides)
    local_redis = None
    children: list[subprocess.Popen] = []
    stop_sweeps = threading.Event()

    redis_url = settings.redis_url
    if redis_url:
        log.info("queue: Redis from TRIAGE_REDIS_URL", extra={"component": "queue"})
    elif LocalRedis.available():
        local_redis = LocalRedis(settings.data_dir)
        redis_url = local_redis.start()
        log.info("queue: embedded redis-server on a private socket (TRIAGE_REDIS_URL not set)",
                 extra={"component": "queue"})
    if redis_url:
        queue = RQJobQueue.from_url(redis_url)
        env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_DATA_DIR": str(settings.data_dir),
               "TRIAGE_DATABASE_URL": settings.effective_database_url}
        for command in ("worker", "scheduler"):
            children.append(subprocess.Popen([sys.executable, "-m", "triage.cli", command], env=env,
                                             start_new_session=True, preexec_fn=_die_with_parent))
    else:
        queue = InProcessQueue(_resolve)
        queue.start()
        log.warning("queue: in-process (no Redis installed); queued work lives in this process only, "
                    "stored messages are re-queued at the next start", extra={"component": "queue"})

    rt = runtime_for(settings, queue)
    if not redis_url:
        threading.Thread(target=_sweep_forever, args=(rt, stop_sweeps), daemon=True).start()
    services = _services(rt)
    for service in services:
        service.start()
        log.info("started", extra={"component": service.name})

    server = uvicorn.Server(uvicorn.Config(create_app(rt), host=settings.http_host, port=settings.http_port,
                                           log_config=None, access_log=False))
    log.info("web application listening", extra={"component": "web", "port": settings.http_port})
    # uvicorn re-raises the signal that stopped it once it has shut down; with these handlers in place
    # that lands here harmlessly, and the children are stopped in order below (redis last).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()  # returns on SIGINT/SIGTERM
    finally:
        stop_sweeps.set()
        for service in reversed(services):
            service.stop()
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if isinstance(queue, InProcessQueue):
            queue.stop()
        if local_redis:
            local_redis.stop()
        log.info("stopped", extra={"component": "run"})
    return 0


def _services(rt) -> list[Service]:
    """The listeners configured for this installation, in start order."""
    from triage.connectors.email.imap_poller import ImapPoller
    from triage.connectors.email.smtp_server import SmtpServer
    from triage.connectors.telegram.polling import polling_service

    services: list[Service] = []
    if rt.settings.smtp_enabled:
        services.append(SmtpServer.from_settings(rt.settings, rt.intake))
    if rt.settings.imap_url:
        services.append(ImapPoller.from_settings(rt.settings, rt.intake))
    telegram_poller = polling_service(rt)
    if telegram_poller is not None:
        services.append(telegram_poller)
    if rt.settings.post_inbox:
        from triage.connectors.post.watcher import PostWatcher

        services.append(PostWatcher.for_runtime(rt))
    return services


def _die_with_parent() -> None:
    """In a child: ask Linux to send SIGTERM if `triage run` itself dies without cleaning up."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _resolve(dotted: str) -> Callable:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _sweep_forever(rt, stop: threading.Event) -> None:
    """The in-process stand-in for the scheduler: re-queue stranded work and flag deadlines."""
    from triage.cli.scheduler import PENDING_EVERY, SLA_EVERY
    from triage.jobs import flag_sla, requeue_stranded

    ticks = 0
    while not stop.wait(PENDING_EVERY if ticks else 1):
        requeue_stranded(rt)
        if ticks % (SLA_EVERY // PENDING_EVERY) == 0:
            flag_sla(rt)
        ticks += 1
