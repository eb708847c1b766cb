"""The work queue: RQ on Redis, or an in-process fallback for a bare machine.

The queue only carries work; the database says what is true. Job ids are derived
from the row they act on (`triage-<message id>`, `outbound-<reply id>`) and
enqueued as unique, so the same work is never on the queue twice, and every job
is idempotent against the database anyway.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

QUEUE_NAMES = ("triage", "outbound", "maintenance")
RETRY_INTERVALS = (5, 30, 120, 600)
"""Seconds between attempts of a failing job; the last interval repeats."""
JOB_TIMEOUT = 300
"""Seconds a single job may run before RQ kills it."""


class QueueUnavailable(RuntimeError):
    """The queue cannot take work right now; the message stays pending for the sweeper."""


@dataclass(frozen=True)
class JobSpec:
    queue: str
    func: str
    """Dotted path of the job function, e.g. `triage.jobs.triage_message`."""
    args: tuple
    job_id: str
    retries: int


class JobQueue(Protocol):
    kind: str

    def enqueue(self, spec: JobSpec, *, force: bool = False) -> bool:
        """Put the job on its queue; False when it was already there. Raises QueueUnavailable.

        `force` replaces a job the queue still thinks is running: the sweeper uses it
        when the database says that job's lease ran out (its worker died).
        """

    def depth(self) -> dict[str, int]: ...


def triage_job(message_id: int, retries: int) -> JobSpec:
    return JobSpec("triage", "triage.jobs.triage_message", (message_id,), f"triage-{message_id}", retries)


def outbound_job(reply_id: int, retries: int = 5) -> JobSpec:
    return JobSpec("outbound", "triage.jobs.send_reply", (reply_id,), f"outbound-{reply_id}", retries)


def media_job(message_id: int, retries: int = 5) -> JobSpec:
    """Download a message's `to_fetch` attachments; on the `triage` queue, so every worker already takes it."""
    return JobSpec("triage", "triage.jobs.fetch_media", (message_id,), f"media-{message_id}", retries)


class RQJobQueue:
    """Jobs on Redis through RQ; retries with backoff are RQ's, run by the worker's scheduler."""

    kind = "redis"

    def __init__(self, connection) -> None:
        from rq import Queue

        self.connection = connection
        self.queues = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}

    @classmethod
    def from_url(cls, url: str) -> RQJobQueue:
        from redis import Redis

        return cls(Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30))

    def enqueue(self, spec: JobSpec, *, force: bool = False) -> bool:
        from redis.exceptions import RedisError
        from rq import Retry
        from rq.exceptions import DuplicateJobError, NoSuchJobError
        from rq.job import Job, JobStatus

        queue = self.queues[spec.queue]
        retry = None
        if spec.retries > 1:
            intervals = list(RETRY_INTERVALS[: spec.retries - 1])
            retry = Retry(max=spec.retries - 1, interval=intervals)

        def put() -> None:
            queue.enqueue(
                spec.func, *spec.args, job_id=spec.job_id, retry=retry, job_timeout=JOB_TIMEOUT,
                result_ttl=3600, failure_ttl=7 * 24 * 3600, unique=True,
            )

        try:
            try:
                put()
                return True
            except DuplicateJobError:
                pass
            try:
                existing = Job.fetch(spec.job_id, connection=self.connection)
                status = existing.get_status(refresh=True)
            except NoSuchJobError:
                existing, status = None, None
            waiting = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
            if status in waiting or (status == JobStatus.STARTED and not force):
                return False
            if existing is not None:  # finished or failed earlier: the database decides if work remains
                existing.delete()
            put()
            return True
        except DuplicateJobError:
            return False
        except RedisError as exc:
            raise QueueUnavailable(f"redis unavailable: {exc.__class__.__name__}") from exc

    def depth(self) -> dict[str, int]:
        from redis.exceptions import RedisError

        try:
            return {name: q.count for name, q in self.queues.items()}
        except RedisError as exc:
            raise QueueUnavailable(str(exc)) from exc

    def ping(self) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(self.connection.ping())
        except RedisError:
            return False


class InProcessQueue:
    """A zero-dependency queue for a machine without Redis: one worker thread, same retries.

    Work that is queued here is lost if the process dies, which is acceptable only
    because the database still holds every message as pending and the sweeper
    re-queues it at the next start.
    """

    kind = "in-process"

    def __init__(self, resolve: Callable[[str], Callable]) -> None:
        self._resolve = resolve
        self._items: stdlib_queue.PriorityQueue = stdlib_queue.PriorityQueue()
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0

    def enqueue(self, spec: JobSpec, *, force: bool = False, attempt: int = 1, at: float | None = None) -> bool:
        with self._lock:
            if attempt == 1 and spec.job_id in self._known and not force:
                return False
            self._known.add(spec.job_id)
            self._seq += 1
            self._items.put((at or time.monotonic(), self._seq, spec, attempt))
        return True

    def depth(self) -> dict[str, int]:
        with self._lock:
            pending = [item[2].queue for item in list(self._items.queue)]
        return {name: pending.count(name) for name in QUEUE_NAMES}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="triage-inprocess-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due, seq, spec, attempt = self._items.get(timeout=0.2)
            except stdlib_queue.Empty:
                continue
            if due > time.monotonic():
                self._items.put((due, seq, spec, attempt))  # its own seq: ties never fall through to JobSpec
                time.sleep(0.05)
                continue
            try:
                self._resolve(spec.func)(*spec.args)
            except Exception:
                if attempt < max(spec.retries, 1):
                    delay = RETRY_INTERVALS[min(attempt - 1, len(RETRY_INTERVALS) - 1)]
                    log.warning("job failed, retrying", extra={"job_id": spec.job_id, "attempt": attempt})
                    self.enqueue(spec, attempt=attempt + 1, at=time.monotonic() + delay)
                    continue
                log.exception("job failed for the last time", extra={"job_id": spec.job_id})
            with self._lock:
                self._known.discard(spec.job_id)


class LocalRedis:
    """A private redis-server for `triage run` on a machine where Redis is installed but not configured."""

    def __init__(self, data_dir: Path) -> None:
        self.socket = data_dir / "redis.sock"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> str:
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.socket.parent)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise QueueUnavailable("could not start a local redis-server")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
