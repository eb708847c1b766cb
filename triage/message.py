"""The normalised inbound message every connector produces.

A connector's only job is to turn raw input (an SMTP DATA block, a Twilio form,
a Telegram update, a chat POST, a scanned file) into an `InboundMessage`. Nothing
downstream knows or cares which connector made it: `channel` says how to reply,
never how to parse.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["email", "sms", "webchat", "telegram", "post"]
CHANNELS: tuple[str, ...] = ("email", "sms", "webchat", "telegram", "post")

IdentityKind = Literal["email", "phone", "telegram", "webchat", "postal"]

MessageKind = Literal["contact", "auto_reply", "bounce"]
"""`contact` is a resident writing to us; the other two are mail robots answering us."""

CASE_REFERENCE = re.compile(r"\bT-(\d{6,})\b")
"""Case references as residents see them: `T-000123` (in `[Ref: T-000123]` or bare)."""


def format_case_reference(case_id: int) -> str:
    return f"T-{case_id:06d}"


def find_case_reference(*texts: str | None) -> str | None:
    """The first case reference in the given texts (subject first), normalised."""
    for text in texts:
        if text:
            match = CASE_REFERENCE.search(text)
            if match:
                return format_case_reference(int(match.group(1)))
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Who sent it, in the channel's own terms (normalised: lower-case email, E.164 phone)."""

    kind: IdentityKind
    value: str
    display_name: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file that came with the message; `data` is None only for media still to fetch (`url`)."""

    filename: str | None
    content_type: str
    data: bytes | None = None
    url: str | None = None
    role: Literal["attachment", "inline", "calendar", "tnef", "to_fetch", "scan"] = "attachment"

    @property
    def sha256(self) -> str | None:
        return sha256_hex(self.data) if self.data is not None else None

    @property
    def size(self) -> int | None:
        return len(self.data) if self.data is not None else None


@dataclass(frozen=True)
class AutomaticMail:
    """Set when the message is a bounce or auto-reply rather than a resident's contact."""

    kind: Literal["auto_reply", "bounce"]
    reason: str
    original_message_id: str | None = None
    """The Message-ID of our outbound reply this robot is answering, when it says."""
    failed_recipients: tuple[str, ...] = ()
    permanent: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """One message from a resident (or a robot), channel-agnostic and immutable."""

    channel: Channel
    external_id: str
    sender: Identity
    text: str
    received_at: datetime
    raw: bytes
    raw_content_type: str = "application/octet-stream"
    subject: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    contact_points: tuple[Identity, ...] = ()
    """Other ways to reach the sender found in the message (e.g. an email address typed in a letter)."""
    automatic: AutomaticMail | None = None
    meta: Mapping[str, object] = field(default_factory=dict)
    """Channel details worth keeping (recipients, parse warnings, OCR confidence...), JSON-serialisable."""

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if not self.external_id:
            raise ValueError("external_id is required")
        if self.received_at.tzinfo is None or self.received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")

    @property
    def kind(self) -> MessageKind:
        return self.automatic.kind if self.automatic else "contact"

    @property
    def case_reference(self) -> str | None:
        """A `T-000123` reference quoted in the subject or text, used to thread onto a case."""
        return find_case_reference(self.subject, self.text)
