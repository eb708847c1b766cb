"""Twilio's inbound-message webhook form -> `InboundMessage` (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from triage.connectors.contact_points import normalise_phone
from triage.connectors.sms.keywords import detect_keyword
from triage.message import Attachment, Identity, InboundMessage

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
REQUIRED = ("MessageSid", "From")


class BadSmsForm(ValueError):
    """The form is missing what every Twilio inbound message carries."""


def sender_number(form: Mapping[str, str]) -> str:
    """The sender in E.164; short codes and alphanumeric senders are kept as Twilio gave them."""
    raw = form["From"].strip()
    return normalise_phone(raw) or raw


def parse_sms(form: Mapping[str, str], raw: bytes, received_at: datetime) -> InboundMessage:
    """One inbound SMS/MMS; media stay at Twilio as attachments to fetch later; keywords noted in `meta`."""
    missing = [name for name in REQUIRED if not form.get(name, "").strip()]
    if missing:
        raise BadSmsForm(f"missing field(s): {', '.join(missing)}")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise BadSmsForm("NumMedia is not a number") from None
    attachments = []
    for index in range(num_media):
        url = form.get(f"MediaUrl{index}")
        if not url:
            raise BadSmsForm(f"MediaUrl{index} missing (NumMedia={num_media})")
        content_type = form.get(f"MediaContentType{index}") or "application/octet-stream"
        attachments.append(Attachment(filename=None, content_type=content_type, url=url, role="to_fetch"))
    meta = {key: form[key] for key in ("To", "MessagingServiceSid", "NumSegments") if form.get(key)}
    keyword = detect_keyword(form.get("Body", ""))
    if keyword:
        meta["keyword"] = keyword
    return InboundMessage(
        channel="sms",
        external_id=form["MessageSid"].strip(),
        sender=Identity("phone", sender_number(form)),
        text=form.get("Body", ""),
        received_at=received_at,
        raw=raw,
        raw_content_type=FORM_CONTENT_TYPE,
        attachments=tuple(attachments),
        meta=meta,
    )
