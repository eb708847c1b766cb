"""The post "sender": a reply letter written as a PDF into the print room's outbox.

The file is named after the reply id, written under a temporary name and
renamed, so the print room never sees half a letter and a retried send finds
the finished file and leaves it alone: the same reply is never printed twice
(hence `resend_safe`). A recipient with no postcode cannot be posted to, which
no retry can fix, so it fails permanently and the reply is left for staff.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from triage.config import ConfigError, Settings
from triage.connectors.base import OutboundMessage, SendResult, TransportError
from triage.connectors.post.address import envelope_lines, find_postcode
from triage.connectors.post.letter_pdf import LetterBlocks, Letterhead, register_fonts, render_letter_pdf
from triage.council import Council
from triage.deadlines import london_date
from triage.templates.dates import date_in_words

STATUS = "sent_to_print"


@dataclass
class PostSender:
    channel = "post"
    resend_safe = True
    outbox: Path
    letterhead: Letterhead

    def send(self, message: OutboundMessage) -> SendResult:
        recipient = envelope_lines(message.recipient)
        if not recipient or not find_postcode(recipient[-1]):
            raise TransportError("no postal address with a postcode to write to; reply another way",
                                 permanent=True)
        path = self.outbox / letter_filename(message)
        if not path.exists():
            pdf = render_letter_pdf(letter_blocks(message), recipient, self.letterhead)
            try:
                _write_atomically(path, pdf)
            except OSError as exc:
                raise TransportError(f"cannot write to the post outbox: {exc.strerror or exc}") from exc
        return SendResult(provider_id=str(path), status=STATUS)


def letter_filename(message: OutboundMessage) -> str:
    """`reply-0000042-T-000017.pdf`: print-room order is reply order; no personal data in the name."""
    reference = "".join(c for c in (message.case_reference or "") if c.isalnum() or c == "-")
    return f"reply-{message.reply_id:07d}{'-' + reference if reference else ''}.pdf"


def letter_blocks(message: OutboundMessage) -> LetterBlocks:
    """The templates' letter blocks stored with the reply; a reply written as plain text becomes paragraphs."""
    stored = message.meta.get("letter")
    if isinstance(stored, dict):
        return LetterBlocks.from_mapping(stored)
    today = london_date(datetime.now(UTC))
    return LetterBlocks(language=message.language, date=date_in_words(today, message.language),
                        reference=message.case_reference, heading=message.subject, salutation=None,
                        paragraphs=tuple(p.strip() for p in message.text.split("\n\n") if p.strip()),
                        closing=None, signature=(), return_address=())


def build_sender(settings: Settings, council: Council) -> PostSender:
    if settings.post_outbox is None:
        raise ConfigError("TRIAGE_POST_OUTBOX is not set (where reply letters are written for printing)")
    try:
        settings.post_outbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"TRIAGE_POST_OUTBOX: cannot use {settings.post_outbox}: {exc.strerror or exc}") from None
    register_fonts()
    return PostSender(settings.post_outbox, Letterhead.from_council(council.details))


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
