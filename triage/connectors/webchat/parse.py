"""A chat message -> `InboundMessage` (pure: no I/O)."""

from __future__ import annotations

import re
from datetime import datetime

from triage.connectors.contact_points import find_contact_points
from triage.message import Identity, InboundMessage

MAX_CHARS = 5000
CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
"""The widget's own id for a message, so a retried POST is stored once."""


class BadChatMessage(ValueError):
    pass


class ChatMessageTooLong(BadChatMessage):
    pass


def parse_chat_message(public_id: str, payload: dict, raw: bytes, received_at: datetime) -> InboundMessage:
    """Typed email addresses and phone numbers become contact points: suggestions for staff, never merges."""
    text = payload.get("text")
    client_id = payload.get("client_message_id")
    if not isinstance(text, str) or not text.strip():
        raise BadChatMessage("text is required")
    if len(text) > MAX_CHARS:
        raise ChatMessageTooLong(f"text is longer than {MAX_CHARS} characters")
    if not isinstance(client_id, str) or not CLIENT_MESSAGE_ID.match(client_id):
        raise BadChatMessage("client_message_id is required: 8 to 64 letters, digits, '-' or '_'")
    return InboundMessage(
        channel="webchat",
        external_id=f"{public_id}:{client_id}",
        sender=Identity("webchat", public_id),
        text=text.strip(),
        received_at=received_at,
        raw=raw,
        raw_content_type="application/json",
        contact_points=find_contact_points(text),
    )
