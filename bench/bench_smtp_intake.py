"""Sustained SMTP intake on loopback into PostgreSQL (a benchmark, not a test).

    .venv/bin/python bench/bench_smtp_intake.py
    .venv/bin/python bench/bench_smtp_intake.py --messages 5000 --connections 16

The server is `triage smtp --processes N` (default: two per core), exactly as
deployed: parse, blobs fsynced, the message row committed, the triage job
queued on Redis, then 250. The senders are separate processes holding
persistent SMTP sessions, like a relay's queue runners. Time-to-250 is
measured at the client, from sending DATA to reading the reply.

It creates and drops its own PostgreSQL database (TRIAGE_BENCH_POSTGRES, an
admin URL) and starts a private redis-server. Results are printed and written
to bench/results/smtp_intake.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ADMIN_URL = os.environ.get("TRIAGE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGET_PER_SECOND = 200.0


def message(n: int, run: str) -> bytes:
    """A resident's mail of typical size; every tenth carries a 60 KB photo."""
    mail = EmailMessage()
    mail["From"] = f"Resident {n} <resident{n}@example.org>"
    mail["To"] = "contact@council.example"
    mail["Subject"] = f"Missed collection, report {n}"
    mail["Message-ID"] = f"<bench.{run}.{n}@example.org>"
    mail["Date"] = "Tue, 10 Mar 2026 09:15:00 +0000"
    text = ("Dear council,\n\nMy green bin was not collected on Tuesday again. It is the third time this "
            "month and the bin is now overflowing. Please can someone come and empty it.\n\n") * 6
    mail.set_content(text + f"Yours, resident {n}\n")
    mail.add_alternative(f"<p>{text}</p>", subtype="html")
    if n % 10 == 0:
        mail.add_attachment(os.urandom(60_000), maintype="image", subtype="jpeg", filename="bin.jpg")
    return mail.as_bytes(policy=policy.SMTP)


def sender(args: tuple[int, list[int], str]) -> tuple[float, float, list[float]]:
    """One SMTP session sending its share: (start, end, time-to-250 of each in ms). Mail is built first."""
    port, numbers, run = args
    mails = [(n, message(n, run)) for n in numbers]
    latencies = []
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo("relay.example.org")
        began = time.time()
        for n, raw in mails:
            smtp.mail(f"resident{n}@example.org")
            smtp.rcpt("contact@council.example")
            started = time.perf_counter()
            code, _ = smtp.data(raw)
            latencies.append((time.perf_counter() - started) * 1000)
            if code != 250:
                raise RuntimeError(f"message {n} answered {code}")
        return began, time.time(), latencies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (Linux /proc)."""
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2 * (os.cpu_count() or 1),
                        help="SMTP server processes (two per core: each also waits on fsyncs and the GIL)")
    args = parser.parse_args()

    from sqlalchemy import create_engine, func, select, text

    from triage.queue import LocalRedis
    from triage.store.db import make_engine, upgrade
    from triage.store.models import Message

    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    redis = LocalRedis(workdir)
    server = None
    try:
        upgrade(url)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        env.update(TRIAGE_DATABASE_URL=url, TRIAGE_REDIS_URL=redis.start(), TRIAGE_DATA_DIR=str(workdir / "var"),
                   TRIAGE_SMTP_ACCEPT="contact@council.example", TRIAGE_LOG_LEVEL="WARNING")
        server = subprocess.Popen([sys.executable, "-m", "triage.cli", "smtp", "--port", str(port),
                                   "--processes", str(args.processes)], env=env, cwd=REPO)
        wait_for(port)

        run = uuid.uuid4().hex[:8]
        shares = [(port, list(range(i, args.messages, args.connections)), run) for i in range(args.connections)]
        with multiprocessing.get_context("spawn").Pool(args.connections) as pool:
            pool.map(sender, [(port, [n], "warmup") for n in range(args.connections)])  # connections, imports
            cpu = cpu_seconds(server.pid)
            results = pool.map(sender, shares)
            cpu = cpu_seconds(server.pid) - cpu
        elapsed = max(end for _, end, _ in results) - min(began for began, _, _ in results)
        latencies = sorted(ms for _, _, share in results for ms in share)
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(Message).where(
                Message.external_id.like(f"<bench.{run}.%")))
        engine.dispose()

        result = {
            "messages": args.messages, "connections": args.connections, "server_processes": args.processes,
            "stored": stored, "seconds": round(elapsed, 2),
            "messages_per_second": round(args.messages / elapsed, 1),
            "time_to_250_ms": {"p50": round(statistics.median(latencies), 1),
                               "p95": round(latencies[int(len(latencies) * 0.95) - 1], 1),
                               "p99": round(latencies[int(len(latencies) * 0.99) - 1], 1),
                               "max": round(latencies[-1], 1)},
            "server_cpu_ms_per_message": round(cpu * 1000 / args.messages, 2),
            "target_messages_per_second": TARGET_PER_SECOND, "cpus": os.cpu_count(),
            "load_average_1m": os.getloadavg()[0],
        }
        result["meets_target"] = result["messages_per_second"] >= TARGET_PER_SECOND and stored == args.messages
        print(json.dumps(result, indent=2))
        out = REPO / "bench" / "results" / "smtp_intake.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        return 0 if result["meets_target"] else 1
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                              " AND pid <> pg_backend_pid()"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the SMTP server did not start")


if __name__ == "__main__":
    sys.exit(main())
