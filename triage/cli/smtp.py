"""`triage smtp`: the inbound SMTP server on its own (it also runs inside `triage run`).

`--processes N` runs N listeners on the same port (SO_REUSEPORT): the kernel
spreads connections between them, so intake uses N cores.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

HELP = "Run the inbound SMTP server (TRIAGE_SMTP_*; needs TRIAGE_REDIS_URL)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="address to listen on (TRIAGE_SMTP_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (TRIAGE_SMTP_PORT)")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="listener processes sharing the port, about two per core (default 1)")
    parser.add_argument("--sibling", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from triage.cli import UserError
    from triage.cli.common import redis_queue, runtime_for, start
    from triage.cli.serving import serve_until_signalled
    from triage.connectors.email.smtp_server import SmtpServer

    if args.processes < 1:
        raise UserError("--processes must be at least 1")
    overrides = {k: v for k, v in {"smtp_host": args.host, "smtp_port": args.port}.items() if v}
    settings = start(**overrides)  # the schema is brought up to date here, once, before any sibling starts
    rt = runtime_for(settings, redis_queue(settings))
    shared = args.processes > 1 or args.sibling
    server = SmtpServer.from_settings(settings, rt.intake, reuse_port=shared)
    siblings = []
    if args.processes > 1:
        command = [sys.executable, "-m", "triage.cli", "smtp", "--sibling", "--port", str(settings.smtp_port),
                   "--host", settings.smtp_host]
        siblings = [subprocess.Popen(command, env=os.environ.copy()) for _ in range(args.processes - 1)]
    try:
        serve_until_signalled(server)
    finally:
        for child in siblings:
            child.send_signal(signal.SIGTERM)
        for child in siblings:
            child.wait(timeout=60)
    return 0
