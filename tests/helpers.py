"""Helpers the tests share: ports, a burst worker, inbound messages to feed intake."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
import uuid
from datetime import UTC, datetime

from triage.message import Identity, InboundMessage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drain(rt, queues=("triage", "outbound", "maintenance")) -> None:
    """Run every queued job to completion in this process with a real RQ worker (burst mode)."""
    from rq import SimpleWorker

    SimpleWorker(list(queues), connection=rt.queue.connection).work(burst=True, with_scheduler=False)



def make_message(text: str = "My bin was not collected on Tuesday.", *, channel: str = "email",
                 external_id: str | None = None, sender: Identity | None = None, subject: str | None = None,
                 received_at: datetime | None = None, **kwargs) -> InboundMessage:
    """A plausible inbound message, as a connector would produce it."""
    sender = sender or Identity("email", "resident@example.org", "A Resident")
    return InboundMessage(
        channel=channel,  # type: ignore[arg-type]
        external_id=external_id or f"<{uuid.uuid4().hex}@example.org>",
        sender=sender,
        subject=subject,
        text=text,
        received_at=received_at or datetime.now(UTC),
        raw=text.encode(),
        raw_content_type="text/plain",
        **kwargs,
    )


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port}")


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants (RQ's work horse runs in a process group of its own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    stack, victims = [pid], []
    while stack:
        current = stack.pop()
        victims.append(current)
        stack.extend(children.get(current, []))
    for victim in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
