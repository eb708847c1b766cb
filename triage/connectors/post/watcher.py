"""The drop folder the scanner writes into: each file becomes a message, then moves out of the way.

A file leaves the inbox only after its fate is recorded: to `processed/` once
intake has stored its message, to `failed/` (with `<name>.reason.txt`) once it
is known to be unreadable. Everything is keyed on the content hash in
`processed_files`, so:

- a crash after intake but before the move finds the message already stored on
  the next pass (no second OCR, no second message) and finishes the move;
- the same scan dropped twice goes to `processed/` as the same message;
- a file that makes the watcher crash (or fail unexpectedly) is tried at most
  `MAX_ATTEMPTS` times: a `taking` row, whose `reason` holds the attempt
  count, is written before the work starts, so even a process killed mid-OCR
  counts, and the file then goes to `failed/` instead of looping;
- storage being down is nobody's fault: the file stays, nothing is counted, and
  the folder is tried again after a backoff.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from triage.config import ConfigError, Settings
from triage.connectors.post.desk import PostDesk
from triage.connectors.post.files import BadScan, size_refusal
from triage.intake import IntakeUnavailable
from triage.message import sha256_hex
from triage.store.db import DatabaseUnavailable, transaction
from triage.store.models import ProcessedFile

log = logging.getLogger(__name__)

PROCESSED = "processed"
FAILED = "failed"
REASON_SUFFIX = ".reason.txt"
IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", ".swp")
"""Names a scanner or copy tool gives a file it is still writing."""
MAX_ATTEMPTS = 3
"""Tries at one file that end in a crash or an unexpected error before it goes to `failed/`."""
STOP_WAIT_SECONDS = 60
"""How long `stop()` lets the file being read finish (an interrupted one is simply read again)."""
_ATTEMPT = re.compile(r"^attempt (\d+)$")


@dataclass(frozen=True)
class Outcome:
    status: str
    """stored, duplicate, failed, retry (an unexpected error; tried again next pass), gone, busy."""
    sha256: str | None = None
    message_id: int | None = None
    reason: str | None = None


class PostWatcher:
    """Polls the inbox; a service for `triage run` (`start`/`stop`) or one pass with `run_once`."""

    name = "post"

    def __init__(self, inbox: Path, desk: PostDesk, sessions: sessionmaker[Session], *, max_bytes: int,
                 poll_seconds: float = 5.0, settle_seconds: float = 2.0,
                 backoff: tuple[float, float] = (5.0, 300.0)) -> None:
        self.inbox = inbox
        self.processed = inbox / PROCESSED
        self.failed = inbox / FAILED
        self.desk = desk
        self.sessions = sessions
        self.max_bytes = max_bytes
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        """A file must be this many seconds unchanged before it is taken (the scanner may still be writing)."""
        self.backoff = backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreadable: set[tuple[str, float]] = set()
        try:
            self.processed.mkdir(parents=True, exist_ok=True)
            self.failed.mkdir(exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"TRIAGE_POST_INBOX: cannot use {inbox}: {exc.strerror or exc}") from None

    @classmethod
    def from_settings(cls, settings: Settings, desk: PostDesk, sessions: sessionmaker[Session]) -> PostWatcher:
        if settings.post_inbox is None:
            raise ConfigError("TRIAGE_POST_INBOX is not set")
        return cls(settings.post_inbox, desk, sessions, max_bytes=settings.post_max_bytes)

    @classmethod
    def for_runtime(cls, rt) -> PostWatcher:
        """The watcher `triage run` and `triage post watch` start (Tesseract checked first)."""
        return cls.from_settings(rt.settings, PostDesk.build(rt.settings, rt.intake, rt.sessions, rt.council),
                                 rt.sessions)

    # --- service -------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="post-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_SECONDS)
            self._thread = None

    def run_forever(self) -> None:
        delay = self.poll_seconds
        while not self._stop.is_set():
            try:
                self.run_once()
                delay = self.poll_seconds
            except IntakeUnavailable as exc:
                delay = min(max(delay * 2, self.backoff[0]), self.backoff[1])
                log.warning("storage unavailable; scans left in the inbox",
                            extra={"component": "post", "error": str(exc)[:200]})
            except Exception as exc:
                log.exception("post watcher pass failed; trying again", extra={"component": "post",
                                                                            "error": exc.__class__.__name__})
            self._stop.wait(delay)

    def run_once(self) -> list[Outcome]:
        """One pass over the inbox, oldest file first; `IntakeUnavailable` ends it early."""
        outcomes = []
        for path in self.ready_files():
            if self._stop.is_set():
                break
            outcomes.append(self.take_file(path))
        return outcomes

    def ready_files(self, now: float | None = None) -> list[Path]:
        now = datetime.now(UTC).timestamp() if now is None else now
        ready = []
        for path in self.inbox.iterdir():
            if path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS_SUFFIXES):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file() and now - stat.st_mtime >= self.settle_seconds:
                ready.append((stat.st_mtime, path.name, path))
        return [path for *_, path in sorted(ready)]

    # --- one file ----------------------------------------------------------------------

    def take_file(self, path: Path) -> Outcome:
        try:
            refusal = size_refusal(path.stat().st_size, self.max_bytes)
            if refusal is not None:
                return self._fail(path, _hash_file(path), refusal.code, refusal.detail)
            data = path.read_bytes()
        except FileNotFoundError:
            return Outcome("gone")
        except OSError as exc:
            self._warn_unreadable(path, exc)
            return Outcome("retry", reason=exc.strerror or str(exc))
        sha = sha256_hex(data)
        earlier = self._earlier(sha)
        if earlier is not None and earlier.outcome == PROCESSED:
            self._move(path, self.processed, sha)
            log.info("scan already stored; moved to processed", extra={"component": "post", "file_sha256": sha,
                                                                      "message_id": earlier.message_id})
            return Outcome("duplicate", sha, earlier.message_id)
        if earlier is not None and earlier.outcome == FAILED:
            code, _, detail = (earlier.reason or "").partition(": ")
            return self._fail(path, sha, code or "unreadable", detail or "refused earlier")
        attempt = self._begin(sha, path.name)
        if attempt is None:
            return Outcome("busy", sha)
        if attempt > MAX_ATTEMPTS:
            return self._fail(path, sha, "unreadable", f"reading it was interrupted or failed {attempt - 1} times "
                                                       "(see the service log for this file's sha256)")
        try:
            taken = self.desk.take(data, path.name, _received_at(path))
        except BadScan as refusal:
            return self._fail(path, sha, refusal.code, refusal.detail)
        except IntakeUnavailable:
            self._release(sha, attempt)
            raise
        except Exception as exc:
            log.exception("scan not taken; it stays in the inbox and is tried again",
                          extra={"component": "post", "file_sha256": sha, "attempt": attempt,
                                 "error": exc.__class__.__name__})
            return Outcome("retry", sha, reason=exc.__class__.__name__)
        self._record(sha, path.name, PROCESSED, None, taken.message_id)
        self._move(path, self.processed, sha)
        return Outcome("stored" if taken.created else "duplicate", sha, taken.message_id)

    def _fail(self, path: Path, sha: str, code: str, detail: str) -> Outcome:
        reason = f"{code}: {detail}"
        self._record(sha, path.name, FAILED, reason, None)
        target = _free_name(self.failed, path.name, sha)
        _write_atomically(target.with_name(target.name + REASON_SUFFIX), reason_text(path.name, sha, code, detail))
        _replace(path, target)
        log.info("scan refused; moved to failed", extra={"component": "post", "file_sha256": sha, "reason": code})
        return Outcome("failed", sha, reason=reason)

    def _move(self, path: Path, folder: Path, sha: str) -> None:
        _replace(path, _free_name(folder, path.name, sha))

    def _warn_unreadable(self, path: Path, exc: OSError) -> None:
        """Say once per file version that it cannot be opened (permissions are the operator's to fix)."""
        key = (path.name, path.stat().st_mtime if path.exists() else 0.0)
        if key not in self._unreadable:
            self._unreadable.add(key)
            log.warning("cannot open a file in the post inbox", extra={"component": "post",
                                                                       "error": exc.strerror or str(exc)})

    # --- processed_files rows -----------------------------------------------------------------

    def _earlier(self, sha: str) -> ProcessedFile | None:
        """What happened to this content before, detached from its session (read-only)."""
        with storage(self.sessions) as session:
            row = session.get(ProcessedFile, sha)
            if row is not None:
                session.expunge(row)
            return row

    def _begin(self, sha: str, filename: str) -> int | None:
        """Count an attempt at this file before any work; None if another watcher is on it right now."""
        try:
            with storage(self.sessions) as session:
                row = session.get(ProcessedFile, sha, with_for_update=True)
                if row is None:
                    session.add(ProcessedFile(sha256=sha, filename=filename[:500], outcome="taking",
                                              reason="attempt 1"))
                    return 1
                attempt = _attempts(row) + 1
                row.reason = f"attempt {attempt}"
                return attempt
        except IntegrityError:
            return None

    def _release(self, sha: str, attempt: int) -> None:
        """Storage went down: this attempt does not count against the file."""
        try:
            with storage(self.sessions) as session:
                row = session.get(ProcessedFile, sha, with_for_update=True)
                if row is not None and row.outcome == "taking":
                    if attempt <= 1:
                        session.delete(row)
                    else:
                        row.reason = f"attempt {attempt - 1}"
        except IntakeUnavailable:
            pass  # the database is the thing that is down; the count will be one high, which is safe

    def _record(self, sha: str, filename: str, outcome: str, reason: str | None, message_id: int | None) -> None:
        record_outcome(self.sessions, sha, filename, outcome, reason, message_id)

@contextmanager
def storage(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction whose database outage surfaces as `IntakeUnavailable`: retry later, count nothing."""
    try:
        with transaction(sessions) as session:
            yield session
    except DatabaseUnavailable as exc:
        raise IntakeUnavailable(str(exc)) from exc


def record_outcome(sessions: sessionmaker[Session], sha: str, filename: str, outcome: str, reason: str | None,
                   message_id: int | None) -> None:
    """What became of this content: `processed` (with its message) or `failed` (with the reason)."""
    with storage(sessions) as session:
        row = session.get(ProcessedFile, sha, with_for_update=True)
        if row is None:
            row = ProcessedFile(sha256=sha, filename=filename[:500])
            session.add(row)
        row.outcome, row.reason, row.message_id = outcome, reason, message_id


def reason_text(filename: str, sha: str, code: str, detail: str) -> str:
    return (f"file: {filename}\nsha256: {sha}\nrefused: {code}\nreason: {detail}\n"
            f"at: {datetime.now(UTC).isoformat(timespec='seconds')}\n\n"
            "To try again: fix the file and drop the fixed one into the inbox, "
            "or run `triage post ingest FILE` to read this one again.\n")


def _attempts(row: ProcessedFile) -> int:
    match = _ATTEMPT.match(row.reason or "") if row.outcome == "taking" else None
    return int(match.group(1)) if match else 0


def _received_at(path: Path) -> datetime:
    """When the scanner wrote the file (stable across retries), never later than now."""
    now = datetime.now(UTC)
    try:
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return now
    return min(written, now)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _free_name(folder: Path, name: str, sha: str) -> Path:
    """`folder/name`, or `name` with part of the hash added when another file already has that name."""
    target = folder / name
    if not target.exists() and not target.with_name(name + REASON_SUFFIX).exists():
        return target
    stem, dot, suffix = name.rpartition(".")
    return folder / (f"{stem}.{sha[:12]}.{suffix}" if dot and stem else f"{name}.{sha[:12]}")


def _replace(source: Path, target: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # another watcher moved it first
        os.replace(source, target)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
