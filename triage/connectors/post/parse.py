"""A read scan into the normalised `InboundMessage` (pure: the OCR has already happened).

The external id is the file's content hash, so the same scan dropped twice, or
taken again after a crash, is one message. The sender is the writer's name and
address as one line; an email address or mobile number in the letter goes into
`contact_points`, which the reply step prefers over a letter. Page confidences
and the fields found go into `meta` for the person who reads the case.
"""

from __future__ import annotations

from datetime import datetime

from triage.connectors.post.address import postal_identity
from triage.connectors.post.letter_fields import OwnDetails, extract
from triage.connectors.post.reader import ScanText
from triage.message import Attachment, Identity, InboundMessage, sha256_hex

EXTERNAL_ID_PREFIX = "sha256:"
NO_ADDRESS = "no address found in scan "
"""Sender value prefix for a letter with no legible address (a reply by post cannot be addressed)."""


def external_id(sha256: str) -> str:
    """`sha256:<hex>` of the scan file: the same bytes are the same letter, however often they arrive."""
    return EXTERNAL_ID_PREFIX + sha256


def letter_message(data: bytes, scan: ScanText, *, filename: str | None, received_at: datetime,
                   own: OwnDetails, ocr_langs: str, min_confidence: float) -> InboundMessage:
    fields = extract(scan.text, own)
    ident = external_id(sha256_hex(data))
    sender = postal_identity(fields.name, fields.address) if fields.address else \
        Identity("postal", NO_ADDRESS + ident, display_name=fields.name)
    return InboundMessage(
        channel="post",
        external_id=ident,
        sender=sender,
        subject=fields.subject,
        text=scan.text,
        received_at=received_at,
        raw=data,
        raw_content_type=scan.file.content_type,
        attachments=(Attachment(filename, scan.file.content_type, data=data, role="scan"),),
        contact_points=fields.contact_points,
        meta={
            "scan": {"filename": filename, "kind": scan.file.kind, "pages": scan.file.pages},
            "ocr": {"langs": ocr_langs, "min_confidence": min_confidence,
                    "pages": [page.meta() for page in scan.pages]},
            "needs_reading": scan.needs_reading,
            "letter": fields.meta(),
        },
    )
