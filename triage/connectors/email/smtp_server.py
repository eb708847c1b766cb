"""The inbound SMTP server a council points its MX (or a forwarding rule) at.

The edge only does cheap checks (recipient, size) while the client waits;
then the message is parsed and stored through intake in a worker thread, and
the client hears `250` only once intake has committed it. When storage is
down the answer is `451 4.3.0`, so the sending server keeps the message and
tries again later: mail is either stored or still the sender's problem, never
lost in between.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import SMTP, Envelope, Session

from triage.config import ConfigError, Settings
from triage.connectors.email.parse import Envelope as MailEnvelope
from triage.connectors.email.parse import parse_email
from triage.intake import Accepted, Intake, IntakeUnavailable

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 1024 * 1024
"""Longest line taken in DATA. RFC 5321 says 1000, but real mailers send longer lines and
refusing them with a permanent 500 would bounce a resident's mail."""
INTAKE_THREADS = 8
"""Messages parsed and stored at once; each holds one database connection while it works."""


@dataclass(frozen=True)
class Acceptance:
    """Which recipients this server takes mail for: exact addresses and whole `@domain`s."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def parse(cls, spec: str | None) -> Acceptance | None:
        """From `TRIAGE_SMTP_ACCEPT`; None (accept everything) when unset or empty."""
        items = [i.strip().lower() for i in (spec or "").split(",") if i.strip()]
        if not items:
            return None
        return cls(frozenset(i for i in items if not i.startswith("@")),
                   frozenset(i[1:] for i in items if i.startswith("@")))

    def accepts(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        local, _, domain = address.rpartition("@") if "@" in address else (address, "", "")
        if address in self.addresses or domain in self.domains:
            return True
        # RFC 5321 4.5.1: every domain we receive mail for must take mail for postmaster.
        ours = self.domains | {a.rpartition("@")[2] for a in self.addresses}
        return local == "postmaster" and (not domain or domain in ours)


class IntakeHandler:
    """aiosmtpd hooks: refuse unknown recipients early, store the message before saying 250."""

    def __init__(self, intake: Intake, acceptance: Acceptance | None, max_attachment_bytes: int,
                 executor: ThreadPoolExecutor) -> None:
        self.intake = intake
        self.acceptance = acceptance
        self.max_attachment_bytes = max_attachment_bytes
        self.executor = executor

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.acceptance is not None and not self.acceptance.accepts(address):
            log.info("recipient refused", extra={"component": "smtp", "status": 550})
            return "550 5.1.1 Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            accepted = await loop.run_in_executor(
                self.executor, self.deliver, bytes(raw), (envelope.mail_from or "").strip("<> "),
                tuple(envelope.rcpt_tos))
        except IntakeUnavailable as exc:
            log.warning("storage unavailable; message refused for a later retry",
                        extra={"component": "smtp", "status": 451, "error": str(exc)[:200]})
            return "451 4.3.0 Temporary storage failure; please try again later"
        except Exception as exc:
            log.exception("message could not be stored; refused for a later retry",
                          extra={"component": "smtp", "status": 451, "error": exc.__class__.__name__})
            return "451 4.3.0 Temporary local problem; please try again later"
        return f"250 2.0.0 OK: stored as message {accepted.message_id}"

    def deliver(self, raw: bytes, mail_from: str, rcpt_to: tuple[str, ...]) -> Accepted:
        """Parse and store one message (runs in a worker thread; blocking is fine here)."""
        message = parse_email(raw, max_attachment_bytes=self.max_attachment_bytes,
                              envelope=MailEnvelope(mail_from, rcpt_to))
        return self.intake.accept(message)


class _LenientSMTP(SMTP):
    line_length_limit = MAX_LINE_BYTES


class _Listener(UnthreadedController):
    """aiosmtpd's listener on a loop of our own, optionally sharing its port with sibling processes.

    aiosmtpd's threaded Controller proves itself ready by connecting to its own
    port, which with SO_REUSEPORT may reach a sibling instead; binding is proof enough.
    """

    def __init__(self, handler: IntakeHandler, *, reuse_port: bool, **kwargs) -> None:
        super().__init__(handler, loop=asyncio.new_event_loop(), **kwargs)
        self.reuse_port = reuse_port

    def factory(self) -> SMTP:
        return _LenientSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                       ssl=self.ssl_context, reuse_port=self.reuse_port or None)


class SmtpServer:
    """The listener as a service: `start()` returns once it accepts connections, `stop()` drains it.

    `reuse_port` lets several processes (`triage smtp --processes N`) listen on one
    port, the kernel spreading connections between them: parsing and storing a
    message is CPU work, and one Python process uses one core.
    """

    name = "smtp"

    def __init__(self, intake: Intake, *, host: str, port: int, accept: str | None = None,
                 max_bytes: int = 25 * 1024 * 1024, max_attachment_bytes: int = 25 * 1024 * 1024,
                 tls_cert: Path | None = None, tls_key: Path | None = None, reuse_port: bool = False) -> None:
        self.host = host
        self.port = port
        self.acceptance = Acceptance.parse(accept)
        self.executor = ThreadPoolExecutor(INTAKE_THREADS, thread_name_prefix="smtp-intake")
        self.tls = _tls_context(tls_cert, tls_key)
        handler = IntakeHandler(intake, self.acceptance, max_attachment_bytes, self.executor)
        self.listener = _Listener(
            handler, reuse_port=reuse_port, hostname=host, port=port, data_size_limit=max_bytes,
            enable_SMTPUTF8=True, decode_data=False, server_hostname=socket.gethostname(), ident="triage ESMTP",
            tls_context=self.tls, require_starttls=False,
        )
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, intake: Intake, *, port: int | None = None,
                      reuse_port: bool = False) -> SmtpServer:
        return cls(intake, host=settings.smtp_host, port=port or settings.smtp_port, accept=settings.smtp_accept,
                   max_bytes=settings.smtp_max_bytes, max_attachment_bytes=settings.max_attachment_bytes,
                   tls_cert=settings.smtp_tls_cert, tls_key=settings.smtp_tls_key, reuse_port=reuse_port)

    def start(self) -> None:
        if self.acceptance is None:
            log.warning("accepting mail for every recipient (TRIAGE_SMTP_ACCEPT is not set)",
                        extra={"component": "smtp"})
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, args=(ready, failure), name="smtp", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            raise failure[0]
        log.info("SMTP server listening", extra={"component": "smtp", "port": self.port,
                                                 "status": "starttls" if self.tls else "plain"})

    def stop(self) -> None:
        if self._thread is not None:
            self.listener.loop.call_soon_threadsafe(self.listener.loop.stop)
            self._thread.join()
            self._thread = None
        self.executor.shutdown(wait=True)

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self.listener.loop
        try:
            self.listener.begin()  # binds the port (OSError when it is taken)
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            return
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(self.listener.finalize())
        sessions = asyncio.all_tasks(loop)
        for task in sessions:  # connections still open: the sender sees a drop and retries later
            task.cancel()
        loop.run_until_complete(asyncio.gather(*sessions, return_exceptions=True))
        loop.close()


def _tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("TRIAGE_SMTP_TLS_CERT and TRIAGE_SMTP_TLS_KEY must be set together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
