"""Message-IDs in one canonical form, so inbound threads and bounces match what we sent.

Intake deduplicates on `external_id`, threading compares In-Reply-To and
References with stored external ids and reply provider ids, and a bounce is
linked through the Message-ID it quotes. All of that only works if every
Message-ID is written the same way: `<local@domain>`, angle brackets, no spaces.
"""

from __future__ import annotations

import re

from triage.message import sha256_hex

MAX_LENGTH = 500
"""The width of `messages.external_id` and `replies.provider_id`."""
MAX_REFERENCES = 50
"""References kept per message (the most recent); long threads repeat the same ids anyway."""

_BRACKETED = re.compile(r"<([^<>]+)>")


def normalise(value: str | None) -> str | None:
    """`<id>` from a Message-ID, In-Reply-To or quoted header value; None when there is none."""
    if not value:
        return None
    match = _BRACKETED.search(value)
    ident = match.group(1) if match else (value.split() or [""])[0]
    ident = re.sub(r"\s+", "", ident).strip("<>")
    if not ident or len(ident) + 2 > MAX_LENGTH:
        return None
    return f"<{ident}>"


def all_ids(value: str | None) -> tuple[str, ...]:
    """Every id in a References header, oldest first, the last `MAX_REFERENCES` only."""
    if not value:
        return ()
    found = [normalise(f"<{m}>") for m in _BRACKETED.findall(value)] or [normalise(t) for t in value.split()]
    unique = tuple(dict.fromkeys(i for i in found if i))
    return unique[-MAX_REFERENCES:]


def content_id(raw: bytes) -> str:
    """The external id of a message without a usable Message-ID: the hash of its bytes."""
    return f"sha256:{sha256_hex(raw)}"


def outbound(reply_id: int, key: str | None, domain: str) -> str:
    """The Message-ID of a reply: the same on every attempt, so a resend after a crash is recognisable."""
    token = sha256_hex(f"{reply_id}\x00{key or ''}\x00{domain}".encode())[:20]
    return f"<triage.{reply_id}.{token}@{domain}>"
