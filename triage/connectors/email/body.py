"""What a MIME tree contains: the body text, the HTML and the files.

One walk over the parts decides, for each leaf, whether it is body text
(plain or HTML, not marked as an attachment, no file name), a calendar invite,
an inline image, an Outlook TNEF wrapper to unpack, or an ordinary attachment.
Attachments over the size limit are described but their bytes are not kept
(they remain inside the raw message, which is always stored).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import Message

from triage.connectors.email.decode import (
    clean,
    decode_bytes,
    decode_header_value,
    part_bytes,
    part_text,
    recover_bytes,
)
from triage.message import Attachment, sha256_hex

log = logging.getLogger(__name__)

MAX_DEPTH = 40
"""Deeper MIME nesting than this is an attack or a loop, not a resident's mail."""
MAX_PARTS = 1000
"""Leaf parts examined per message; the rest stay in the raw message."""
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
ENCLOSED_TYPES = frozenset({"message/rfc822", "message/global"})


@dataclass
class Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    oversize: list[dict] = field(default_factory=list)
    calendar: list[dict] = field(default_factory=list)
    tnef_text: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    leaves: int = 0


def extract(msg: Message, max_attachment_bytes: int) -> Body:
    body = Body()
    _walk(msg, body, 0, max_attachment_bytes)
    return body


def _walk(part: Message, body: Body, depth: int, limit: int) -> None:
    if depth > MAX_DEPTH:
        body.warnings.append("MIME nesting too deep; inner parts kept only in the raw message")
        return
    ctype = part.get_content_type()
    payload = part.get_payload()
    if isinstance(payload, list) and not ctype.startswith("message/"):
        for child in payload:
            if isinstance(child, Message):
                _walk(child, body, depth + 1, limit)
        return
    body.leaves += 1
    if body.leaves > MAX_PARTS:
        if body.leaves == MAX_PARTS + 1:
            body.warnings.append(f"more than {MAX_PARTS} parts; the rest kept only in the raw message")
        return
    filename = _filename(part)
    disposition = _disposition(part)
    if ctype.startswith("message/"):
        name = filename or ("message.eml" if ctype in ENCLOSED_TYPES else None)
        _add(body, limit, Attachment(name, ctype, enclosed_bytes(part)))
    elif ctype.startswith("multipart/"):
        body.warnings.append(f"{ctype} without parts; read as text")
        body.plain.append(part_text(part, "text/plain"))
    elif ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (body.plain if ctype == "text/plain" else body.html).append(part_text(part, ctype))
    elif ctype in CALENDAR_TYPES or (filename or "").lower().endswith(".ics"):
        data = part_bytes(part)
        body.calendar.extend(calendar_summary(data, body.warnings))
        _add(body, limit, Attachment(filename or "invite.ics", "text/calendar", data, role="calendar"))
    elif ctype in TNEF_TYPES or (filename or "").lower() == "winmail.dat":
        _unpack_tnef(part_bytes(part), filename, body, limit)
    else:
        inline = disposition == "inline" or (disposition is None and part.get("Content-ID") is not None)
        role = "inline" if inline and ctype.startswith("image/") else "attachment"
        _add(body, limit, Attachment(filename, ctype, part_bytes(part), role=role))


def _add(body: Body, limit: int, attachment: Attachment) -> None:
    data = attachment.data or b""
    if len(data) > limit:
        body.oversize.append({"filename": attachment.filename, "content_type": attachment.content_type,
                              "size": len(data), "sha256": sha256_hex(data), "role": attachment.role})
        body.warnings.append("attachment over the size limit; described, bytes kept only in the raw message")
        return
    body.attachments.append(attachment)


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # malformed RFC 2231 parameters
        return None
    if not name:
        return None
    name = decode_header_value(name) if "=?" in name else decode_bytes(recover_bytes(str(name)))
    name = re.split(r"[\\/]", name)[-1].strip()
    return name[:255] or None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def enclosed_bytes(part: Message) -> bytes:
    """The bytes inside a message/* part (a forwarded mail, a bounce's original, a delivery report)."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return part_bytes(part)
    return b"\n".join(_serialised(inner) for inner in payload if isinstance(inner, Message))


def _serialised(inner: Message) -> bytes:
    from email import policy

    try:
        return inner.as_bytes(policy=policy.compat32)
    except Exception:  # headers the generator cannot write back as bytes
        return inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")


def _unpack_tnef(data: bytes, filename: str | None, body: Body, limit: int) -> None:
    """Outlook's winmail.dat: its files become attachments (role `tnef`), its body text is kept."""
    from tnefparse import TNEF

    try:
        tnef = TNEF(data, do_checksum=False)
        files = [(a.long_filename() or a.name or None, a.data) for a in tnef.attachments if a.data]
        text = _as_text(tnef.body)
        html = _as_text(tnef.htmlbody)
    except Exception as exc:  # truncated or non-compliant streams: keep the file as it came
        body.warnings.append(f"TNEF not unpacked: {exc.__class__.__name__}")
        _add(body, limit, Attachment(filename or "winmail.dat", "application/ms-tnef", data))
        return
    for name, content in files:
        name = clean(str(name))[:255] if name else None
        _add(body, limit, Attachment(name, _guess_type(name), bytes(content), role="tnef"))
    if text.strip():
        body.tnef_text.append(text)
    elif html.strip():
        from triage.connectors.email.html_text import html_to_text

        body.tnef_text.append(html_to_text(html))
    if not files and not (text or html).strip():
        _add(body, limit, Attachment(filename or "winmail.dat", "application/ms-tnef", data))


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return decode_bytes(value.rstrip(b"\x00"))
    return clean(value) if isinstance(value, str) else ""


def _guess_type(name: str | None) -> str:
    import mimetypes

    return (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"


def calendar_summary(data: bytes, warnings: list[str]) -> list[dict]:
    """The events of an invite as staff would want them listed (summary, when, where, method)."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(data)
        method = str(calendar.get("METHOD", "")) or None
        events = []
        for event in calendar.walk("VEVENT")[:20]:
            events.append({
                "summary": clean(str(event.get("SUMMARY", "")))[:500] or None,
                "start": _ical_time(event.get("DTSTART")),
                "end": _ical_time(event.get("DTEND")),
                "location": clean(str(event.get("LOCATION", "")))[:500] or None,
                "method": method,
                "uid": clean(str(event.get("UID", "")))[:500] or None,
            })
        return events
    except Exception as exc:
        warnings.append(f"calendar not readable: {exc.__class__.__name__}")
        return []


def _ical_time(prop: object) -> str | None:
    value = getattr(prop, "dt", None)
    return value.isoformat() if value is not None else None
