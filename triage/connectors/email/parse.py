"""Raw RFC 5322 bytes -> `InboundMessage`, for the SMTP server and the IMAP poller alike.

Pure and total: no I/O, and it never raises. A message the email package
cannot make sense of still becomes an `InboundMessage` holding the raw bytes,
whatever text could be recovered, and `meta["parse_warnings"]`, because the
one unforgivable outcome is a resident's mail that is neither stored nor
refused.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

from triage.connectors.email import message_ids
from triage.connectors.email.automatic import detect, suppress_reason
from triage.connectors.email.body import extract
from triage.connectors.email.decode import decode_bytes, decode_encoded_words, header
from triage.connectors.email.html_text import html_to_text, sanitise_html
from triage.message import Identity, InboundMessage

log = logging.getLogger(__name__)

RAW_CONTENT_TYPE = "message/rfc822"
MAX_TEXT_CHARS = 1_000_000
"""Longer text is cut for the classifier and staff view; the whole message stays in the raw blob."""
MAX_SUBJECT_CHARS = 2000
MAX_ADDRESSES = 100
"""Recipients kept in `meta` per header."""
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+")
DATE_PAST = timedelta(days=7)
DATE_FUTURE = timedelta(hours=1)
"""A Date header further from arrival than this is a wrong clock, and arrival time is used instead."""


class _ModernPolicy(EmailPolicy):
    """`email.policy.default`, except that each distinct header value is parsed once.

    The stock policy builds a new header object on every access, and the
    parser and our walk ask for Content-Type some twenty times per message;
    header objects are immutable, so sharing them is safe and halves parse time.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _parsed_header(self.header_factory, name, value.replace("\r", "").replace("\n", ""))


@lru_cache(maxsize=4096)
def _parsed_header(factory, name: str, value: str):
    return factory(name, value)


POLICY = _ModernPolicy()


@dataclass(frozen=True)
class Envelope:
    """What the SMTP conversation said, which the headers may not (Bcc recipients, the bounce address)."""

    mail_from: str
    """The MAIL FROM address; empty for the null sender `<>` that bounces use."""
    rcpt_to: tuple[str, ...] = ()


def parse_email(raw: bytes, *, max_attachment_bytes: int, envelope: Envelope | None = None,
                arrived_at: datetime | None = None) -> InboundMessage:
    """The normalised message for `raw`; never raises."""
    arrived = arrived_at or datetime.now(UTC)
    try:
        return _parse(raw, max_attachment_bytes, envelope, arrived)
    except Exception as exc:  # whatever broke, the message must still be stored
        log.warning("email not parsed; storing it raw", extra={"error": exc.__class__.__name__})
        return _unparsed(raw, envelope, arrived, exc)


def _parse(raw: bytes, limit: int, envelope: Envelope | None, arrived: datetime) -> InboundMessage:
    # A byte-order mark or blank lines before the headers would turn the whole message into body text.
    msg = email.message_from_bytes(raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n"), policy=POLICY)
    warnings = _defects(msg)
    address, name = _sender(msg, envelope, warnings)
    subject = header(msg, "Subject")
    message_id = message_ids.normalise(header(msg, "Message-ID"))
    in_reply_to = message_ids.normalise(header(msg, "In-Reply-To"))
    references = message_ids.all_ids(header(msg, "References"))
    date_text = header(msg, "Date")

    body = extract(msg, limit)
    warnings += body.warnings
    text, html = _texts(body, warnings)
    envelope_from = envelope.mail_from if envelope else None
    automatic = detect(msg, raw, sender=address, sender_name=name, subject=subject or "", text=text,
                       envelope_from=envelope_from, in_reply_to=in_reply_to, references=references)
    suppress = suppress_reason(msg, sender=address, envelope_from=envelope_from)
    reply_to = _addresses(msg, "Reply-To")

    meta: dict[str, object] = {
        "message_id": message_id,
        "to": [a for a, _ in _addresses(msg, "To")],
        "cc": [a for a, _ in _addresses(msg, "Cc")],
        "reply_to": [a for a, _ in reply_to],
        "date_header": (date_text or "")[:200] or None,
        "envelope": {"mail_from": envelope.mail_from, "rcpt_to": list(envelope.rcpt_to)} if envelope else None,
        "suppress_auto_reply": suppress,
        "calendar": body.calendar,
        "oversize_attachments": body.oversize,
        "parse_warnings": list(dict.fromkeys(warnings))[:50],
    }
    return InboundMessage(
        channel="email",
        external_id=message_id or message_ids.content_id(raw),
        sender=Identity("email", address, name),
        subject=subject[:MAX_SUBJECT_CHARS] if subject is not None else None,
        text=text,
        html=html,
        received_at=_received_at(date_text, arrived, warnings),
        raw=raw,
        raw_content_type=RAW_CONTENT_TYPE,
        attachments=tuple(body.attachments),
        in_reply_to=in_reply_to,
        references=references,
        contact_points=tuple(Identity("email", a, n) for a, n in reply_to if a != address),
        automatic=automatic,
        meta={k: v for k, v in meta.items() if v not in (None, [], {})},
    )


def _texts(body, warnings: list[str]) -> tuple[str, str | None]:
    """The resident's words (plain text preferred, else from HTML or TNEF) and the sanitised HTML."""
    plain = "\n\n".join(t.strip() for t in body.plain if t.strip())
    raw_html = "\n".join(body.html)
    if not plain and raw_html.strip():
        plain = html_to_text(raw_html)
    if not plain and body.tnef_text:
        plain = "\n\n".join(body.tnef_text)
    if len(plain) > MAX_TEXT_CHARS:
        warnings.append(f"text cut at {MAX_TEXT_CHARS} characters; the whole message is in the raw copy")
        plain = plain[:MAX_TEXT_CHARS]
    html = sanitise_html(raw_html) if raw_html.strip() else None
    return plain, html


def _sender(msg: Message, envelope: Envelope | None, warnings: list[str]) -> tuple[str, str | None]:
    """The sender's address (lower case) and display name: From, else Sender, else the envelope."""
    for name in ("From", "Sender"):
        found = _addresses(msg, name)
        if found:
            return found[0]
    fallback = (envelope.mail_from if envelope else None) or header(msg, "Return-Path") or ""
    fallback = fallback.strip().strip("<>").strip().lower()
    warnings.append("no From address" + ("; used the envelope sender" if fallback else ""))
    return fallback[:500], None


def _addresses(msg: Message, name: str) -> list[tuple[str, str | None]]:
    """(address, display name) pairs of an address header, from its decoded text (tolerates malformed ones)."""
    text = header(msg, name, encoded_words=False)
    try:
        pairs = getaddresses([text]) if text else []
    except Exception:  # the address parser recurses on pathological lists; take what looks like addresses
        pairs = [("", a) for a in ADDRESS.findall(text or "")]
    result = []
    for display, address in pairs:
        display = decode_encoded_words(display) if "=?" in display else display
        display = display.strip().strip('"').strip()
        address = address.strip().strip("<>").lower() or display.lower()  # "MAILER-DAEMON <>"
        if address:
            result.append((address[:500], (display[:200] or None) if display.lower() != address else None))
    with_at = [p for p in result if "@" in p[0]]
    return (with_at or result)[:MAX_ADDRESSES]


def _received_at(date_text: str | None, arrived: datetime, warnings: list[str]) -> datetime:
    """The Date header when it is believable, else the time the message reached us."""
    if not date_text:
        return arrived
    try:
        sent = parsedate_to_datetime(date_text)
    except (TypeError, ValueError, IndexError, OverflowError):
        sent = None
    if sent is None or sent.tzinfo is None or sent.utcoffset() is None:
        warnings.append("Date header unreadable or without a time zone; used arrival time")
        return arrived
    if not arrived - DATE_PAST <= sent <= arrived + DATE_FUTURE:
        warnings.append("Date header far from arrival time; used arrival time")
        return arrived
    return sent


def _defects(msg: Message) -> list[str]:
    """The email package's complaints about the MIME structure, by name, once each."""
    names: list[str] = []
    try:
        for part in msg.walk():
            names.extend(type(d).__name__ for d in getattr(part, "defects", ()))
    except Exception as exc:
        names.append(f"walk failed: {exc.__class__.__name__}")
    return list(dict.fromkeys(names))[:20]


def _unparsed(raw: bytes, envelope: Envelope | None, arrived: datetime, exc: Exception) -> InboundMessage:
    """The raw message with the best text we can get without a MIME parser."""
    head, sep, rest = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    text = decode_bytes((rest if sep else head)[: MAX_TEXT_CHARS])
    sender = (envelope.mail_from if envelope else "").strip().lower()
    return InboundMessage(
        channel="email",
        external_id=message_ids.content_id(raw),
        sender=Identity("email", sender[:500]),
        text=text,
        received_at=arrived,
        raw=raw,
        raw_content_type=RAW_CONTENT_TYPE,
        meta={"parse_warnings": [f"message not parsed: {exc.__class__.__name__}"],
              "suppress_auto_reply": "message could not be parsed"},
    )
