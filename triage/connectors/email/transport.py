"""Sending replies by email through the council's SMTP relay.

The Message-ID is derived from the reply (its id and idempotency key), so a
reply resent after a crash carries the same id, threads the same way, and a
bounce of either copy links back to the same reply. SMTP's own answer decides
between trying again later (4xx, connection trouble) and giving up (5xx).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from triage.config import ConfigError, Settings
from triage.connectors.base import OutboundMessage, SendResult, TransportError
from triage.connectors.email import message_ids

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Relay:
    """The outbound SMTP server: `smtp://` (optionally `?starttls=yes`) or `smtps://`, with optional login."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Relay:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("TRIAGE_OUTBOUND_SMTP_URL must look like smtp://user:password@host:587?starttls=yes")
        implicit = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls", ["no"])[0].lower() in ("1", "yes", "true")
        return cls(parts.hostname, parts.port or (465 if implicit else 25),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, implicit_tls=implicit, starttls=starttls)


class EmailSender:
    """`Sender` for the email channel."""

    channel = "email"

    def __init__(self, relay: Relay, mail_from: str) -> None:
        self.relay = relay
        self.mail_from = mail_from
        address = parseaddr(mail_from)[1]
        if "@" not in address:
            raise ConfigError("TRIAGE_MAIL_FROM must be an email address")
        self.envelope_from = address
        self.domain = address.rpartition("@")[2].lower()

    def send(self, message: OutboundMessage) -> SendResult:
        if "@" not in parseaddr(message.recipient)[1]:
            raise TransportError("recipient is not an email address", permanent=True)
        try:
            mail = self.compose(message)
        except (ValueError, TypeError) as exc:  # a header that cannot be written (e.g. a line break)
            raise TransportError(f"reply cannot be written as email: {exc}", permanent=True) from exc
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(mail, from_addr=self.envelope_from, to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(f"recipient refused: {_describe(codes)}",
                                 permanent=all(c >= 500 for c in codes)) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as exc:
            # About our account or relay, not this reply: worth retrying once someone fixes it.
            raise TransportError(f"relay refused us: {exc.smtp_code}", permanent=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"relay answered {exc.smtp_code}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"relay unreachable: {exc.__class__.__name__}", permanent=False) from exc
        if refused:
            raise TransportError(f"recipient refused: {_describe([c for c, _ in refused.values()])}",
                                 permanent=True)
        log.info("email reply sent", extra={"reply_id": message.reply_id, "channel": "email"})
        return SendResult(provider_id=mail["Message-ID"])

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The reply as an RFC 5322 message: threaded, referenced, marked automatic when it is."""
        mail = EmailMessage()
        mail["From"] = self.mail_from
        mail["To"] = message.recipient
        mail["Subject"] = _subject(message.subject, message.case_reference)
        mail["Date"] = format_datetime(datetime.now(UTC))
        key = str(message.meta.get("idempotency_key") or "") or None
        mail["Message-ID"] = message_ids.outbound(message.reply_id, key, self.domain)
        parent = message_ids.normalise(message.in_reply_to)
        references = [r for r in (message_ids.normalise(x) for x in message.references) if r]
        if parent:
            mail["In-Reply-To"] = parent
            references = [r for r in references if r != parent] + [parent]
        if references:
            mail["References"] = " ".join(references[-message_ids.MAX_REFERENCES:])
        if message.automatic:
            mail["Auto-Submitted"] = "auto-replied"
            mail["X-Auto-Response-Suppress"] = "All"  # stops Exchange out-of-office replies to our replies
        mail["Content-Language"] = message.language
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def _connect(self) -> smtplib.SMTP:
        relay = self.relay
        if relay.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=TIMEOUT_SECONDS,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT_SECONDS)
        try:
            if relay.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if relay.username:
                smtp.login(relay.username, relay.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def build_sender(settings: Settings) -> EmailSender:
    if not settings.outbound_smtp_url:
        raise ConfigError("TRIAGE_OUTBOUND_SMTP_URL is not set: email replies cannot be sent")
    return EmailSender(Relay.from_url(settings.outbound_smtp_url), settings.mail_from)


def _subject(subject: str | None, reference: str | None) -> str:
    """The subject with `[Ref: T-000123]`, so a resident's answer finds its case whatever the client does."""
    subject = " ".join((subject or "Your message to the council").split())
    if reference and reference not in subject:
        subject = f"{subject} [Ref: {reference}]"
    return subject


def _describe(codes: list[int]) -> str:
    return ", ".join(str(c) for c in codes) or "no code"
