"""A Telegram `Update` -> `InboundMessage` (pure: no I/O).

Files stay on Telegram's servers as attachments to fetch (`telegram-file:<file_id>`),
so accepting an update never waits on a download. Ids are `<chat id>:<message id>`
both ways, so a resident quoting one of our replies threads onto its case.
"""

from __future__ import annotations

import re

from telegram import Message, Update

from triage.connectors.contact_points import find_contact_points, normalise_phone
from triage.message import Attachment, Identity, InboundMessage

GREETING_COMMAND = re.compile(r"^/(start|help)(@\w+)?(\s|$)", re.IGNORECASE)


def is_greeting_command(update: Update) -> bool:
    """`/start` (sent when a resident first opens the bot) or `/help`."""
    message = update.message
    return bool(message and message.text and GREETING_COMMAND.match(message.text))


FILE_URL_PREFIX = "telegram-file:"


def file_url(file_id: str) -> str:
    return f"{FILE_URL_PREFIX}{file_id}"


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found = []
    if message.photo:
        largest = message.photo[-1]  # Telegram lists sizes smallest first
        found.append(Attachment(None, "image/jpeg", url=file_url(largest.file_id), role="to_fetch"))
    for media, default_type in ((message.document, "application/octet-stream"), (message.voice, "audio/ogg"),
                                (message.audio, "audio/mpeg"), (message.video, "video/mp4")):
        if media is not None:
            found.append(Attachment(getattr(media, "file_name", None), media.mime_type or default_type,
                                    url=file_url(media.file_id), role="to_fetch"))
    return tuple(found)


def parse_update(update: Update, raw: bytes) -> InboundMessage | None:
    """The resident's message, or None for updates that carry nothing to read (stickers, joins...)."""
    message = update.message
    if message is None:
        return None
    text = message.text or message.caption or ""
    attachments = _attachments(message)
    meta: dict[str, object] = {"update_id": update.update_id, "chat_type": message.chat.type}
    if message.location:
        meta["location"] = {"latitude": message.location.latitude, "longitude": message.location.longitude}
    contact_points = list(find_contact_points(text))
    shared = normalise_phone(message.contact.phone_number) if message.contact else None
    if shared:
        contact_points.append(Identity("phone", shared))
    if not text.strip() and not attachments and "location" not in meta and not contact_points:
        return None
    user = message.from_user
    quoted = message.reply_to_message
    return InboundMessage(
        channel="telegram",
        external_id=f"{message.chat.id}:{message.message_id}",
        sender=Identity("telegram", str(message.chat.id), user.full_name if user else message.chat.effective_name),
        text=text,
        received_at=message.date,
        raw=raw,
        raw_content_type="application/json",
        attachments=attachments,
        in_reply_to=f"{message.chat.id}:{quoted.message_id}" if quoted else None,
        contact_points=tuple(dict.fromkeys(contact_points)),
        meta=meta,
    )
