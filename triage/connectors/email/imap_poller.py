"""Reading a council's existing shared mailbox over IMAP.

For each unseen message: fetch it without marking it read, hand it to intake,
and only after intake has committed it flag it \\Seen and move it to the
Processed folder. A crash anywhere in between leaves the message unseen in the
inbox, so the next pass takes it again and intake's idempotency (Message-ID,
or the content hash) turns the second store into a no-op: nothing is lost,
nothing is stored twice. One loop serves IDLE servers and plain polling alike;
any connection failure ends the session and a new one starts after a backoff.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from triage.config import ConfigError, Settings
from triage.connectors.email.parse import parse_email
from triage.intake import Intake, IntakeUnavailable

log = logging.getLogger(__name__)

SEEN = b"\\Seen"
CONNECTION_ERRORS = (IMAPClientError, imaplib.IMAP4.error, OSError, EOFError, ssl.SSLError, socket.timeout)
"""What a dropped or refused IMAP connection raises (IMAPClientError covers imaplib's abort)."""


@dataclass(frozen=True)
class Mailbox:
    """Where the shared mailbox is: from `imap://` (plain, `?starttls=yes` to upgrade) or `imaps://`."""

    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ConfigError("TRIAGE_IMAP_URL must look like imaps://user:password@host:port")
        implicit = parts.scheme == "imaps"
        starttls = parse_qs(parts.query).get("starttls", ["no"])[0].lower() in ("1", "yes", "true")
        return cls(parts.hostname, parts.port or (993 if implicit else 143), unquote(parts.username),
                   unquote(parts.password or ""), implicit_tls=implicit, starttls=starttls)


class ImapPoller:
    """The mailbox reader as a service (`start`/`stop`), or one pass with `run_once` (cron, tests)."""

    name = "imap"

    def __init__(self, intake: Intake, mailbox: Mailbox, *, folder: str = "INBOX",
                 processed_folder: str = "Processed", max_attachment_bytes: int = 25 * 1024 * 1024,
                 idle_seconds: float = 300, poll_seconds: float = 60, timeout: float = 30,
                 backoff: tuple[float, float] = (1, 60)) -> None:
        self.intake = intake
        self.mailbox = mailbox
        self.folder = folder
        self.processed_folder = processed_folder
        self.max_attachment_bytes = max_attachment_bytes
        self.idle_seconds = idle_seconds
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.backoff = backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, intake: Intake) -> ImapPoller:
        if not settings.imap_url:
            raise ConfigError("TRIAGE_IMAP_URL is not set")
        return cls(intake, Mailbox.from_url(settings.imap_url), folder=settings.imap_folder,
                   processed_folder=settings.imap_processed_folder,
                   max_attachment_bytes=settings.max_attachment_bytes)

    # --- service ----------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="imap-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
            self._thread = None

    def run_forever(self) -> None:
        """Take mail until stopped; reconnect with exponential backoff whenever anything fails."""
        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                with self._session() as client:
                    log.info("mailbox connected", extra={"component": "imap"})
                    delay = self.backoff[0]
                    while not self._stop.is_set():
                        self.take_unseen(client)
                        self._wait_for_mail(client)
            except IntakeUnavailable as exc:
                log.warning("storage unavailable; mail left in the mailbox",
                            extra={"component": "imap", "error": str(exc)[:200]})
            except CONNECTION_ERRORS as exc:
                log.warning("mailbox connection lost; reconnecting",
                            extra={"component": "imap", "error": exc.__class__.__name__})
            except Exception as exc:
                log.exception("mailbox reader failed; restarting it",
                              extra={"component": "imap", "error": exc.__class__.__name__})
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.backoff[1])

    def run_once(self) -> int:
        """One pass over the unseen mail; the number of messages taken."""
        with self._session() as client:
            return self.take_unseen(client)

    # --- one pass ---------------------------------------------------------------------------

    def take_unseen(self, client: IMAPClient) -> int:
        taken = 0
        for uid in client.search(["UNSEEN"]):
            if self._stop.is_set():
                break
            try:
                taken += self._take(client, uid)
            except (IntakeUnavailable, *CONNECTION_ERRORS):
                raise
            except Exception as exc:  # one bad message must not hold up the rest; it stays unseen
                log.exception("mailbox message not taken; left unseen for the next pass",
                              extra={"component": "imap", "error": exc.__class__.__name__})
        return taken

    def _take(self, client: IMAPClient, uid: int) -> int:
        fetched = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"]).get(uid)
        if not fetched or b"BODY[]" not in fetched:
            return 0  # expunged by someone else since the search
        arrived = fetched.get(b"INTERNALDATE")
        message = parse_email(fetched[b"BODY[]"], max_attachment_bytes=self.max_attachment_bytes,
                              arrived_at=arrived if arrived is not None and arrived.tzinfo else None)
        accepted = self.intake.accept(message)
        client.add_flags([uid], [SEEN])
        self._move(client, uid)
        log.info("mailbox message taken", extra={"component": "imap", "message_id": accepted.message_id,
                                                 "status": "stored" if accepted.created else "already stored"})
        return 1

    def _move(self, client: IMAPClient, uid: int) -> None:
        if client.has_capability("MOVE"):
            client.move([uid], self.processed_folder)
            return
        client.copy([uid], self.processed_folder)
        client.delete_messages([uid])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])
        else:
            client.expunge()

    # --- connection -------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[IMAPClient]:
        box = self.mailbox
        client = IMAPClient(box.host, port=box.port, ssl=box.implicit_tls, timeout=self.timeout,
                            ssl_context=ssl.create_default_context() if box.implicit_tls else None)
        try:
            client.normalise_times = False  # keep INTERNALDATE timezone-aware
            if box.starttls:
                client.starttls(ssl.create_default_context())
            client.login(box.username, box.password)
            if not client.folder_exists(self.processed_folder):
                client.create_folder(self.processed_folder)
            client.select_folder(self.folder)
            yield client
        finally:
            _close_quietly(client)

    def _wait_for_mail(self, client: IMAPClient) -> None:
        """Until new mail may have arrived: IDLE where the server has it, else a plain wait."""
        if not client.has_capability("IDLE"):
            self._stop.wait(self.poll_seconds)
            return
        client.idle()
        try:
            deadline = time.monotonic() + self.idle_seconds
            while not self._stop.is_set() and time.monotonic() < deadline:
                responses = client.idle_check(timeout=1)
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
        finally:
            client.idle_done()


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is already gone; nothing left to close politely
        try:
            client.shutdown()
        except Exception:
            log.debug("mailbox socket already closed", extra={"component": "imap"})
