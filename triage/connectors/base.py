"""What every channel's sender takes and returns, what its media fetcher returns, and the one error both raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class TransportError(Exception):
    """Sending or fetching failed. `permanent` decides between retrying later and marking it failed."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundMessage:
    """A rendered reply ready for the wire."""

    reply_id: int
    channel: str
    recipient: str
    """Email address, E.164 number, Telegram chat id, web-chat session id, or postal address lines."""
    text: str
    subject: str | None = None
    html: str | None = None
    language: str = "en"
    automatic: bool = True
    case_reference: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    meta: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None
    """The channel's id for what was sent (Message-ID, Twilio SID, Telegram message id, PDF path)."""
    status: str = "sent"
    """`sent`, or `sent_to_print` for letters."""


class Sender(Protocol):
    """Puts one rendered reply on the wire.

    A sender whose provider recognises a second send of the same reply (by
    `meta["idempotency_key"]` or `reply_id`) may set `resend_safe = True`: only
    then is a reply whose earlier attempt was interrupted mid-send sent again;
    otherwise it is marked `unknown` for staff, so nobody gets it twice.
    """

    channel: str

    def send(self, message: OutboundMessage) -> SendResult: ...


def too_large(limit: int) -> TransportError:
    """A file over the size limit: no retry will shrink it."""
    return TransportError(f"file larger than {limit} bytes", permanent=True)


@dataclass(frozen=True)
class FetchedMedia:
    """A resident's file, downloaded from the provider that kept it (Twilio, Telegram)."""

    data: bytes
    content_type: str | None = None
    """What the provider says the bytes are, when it says."""


class MediaFetcher(Protocol):
    """Downloads one attachment recorded as `to_fetch` from the URL that connector's parser stored."""

    channel: str

    def fetch(self, url: str) -> FetchedMedia: ...
