"""Mail written by robots: bounces, delivery reports, complaints and auto-replies.

Two questions, kept apart on purpose:

* `detect`: is this message a robot answering *us* (a bounce of our reply, an
  out-of-office, a read receipt)? Then it is recorded against the reply it
  concerns, not triaged as a resident's contact.
* `suppress_reason`: is the sender a robot or a list we must never answer
  automatically (RFC 3834), even though the message is still a contact?

Standard reports (RFC 3464 DSNs, RFC 5965 ARF, RFC 8098 MDNs) are read by their
structure; the many MTAs that send free-text bounces are recognised by a robot
sender together with the wording of the subject or body.
"""

from __future__ import annotations

import re
from email.message import Message

from triage.connectors.email import message_ids
from triage.connectors.email.body import enclosed_bytes
from triage.connectors.email.decode import decode_bytes, header, part_bytes
from triage.message import AutomaticMail

DAEMON_LOCAL_PARTS = frozenset({
    "mailer-daemon", "mailerdaemon", "mailer_daemon", "mail-daemon", "maildaemon", "postmaster",
    "mdaemon", "mail.daemon", "mailadmin", "post_master",
})
NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply[-_.].*|bounces?([-+].*)?)$")
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Subscribe", "Mailing-List", "X-MLServer")
FORWARDED = re.compile(r"^\s*(fwd?|re|aw|tr|wg|sv|vs)\s*:", re.I)
"""A person forwarding or answering a bounce is writing to us, whatever the subject goes on to say."""

BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status|notification|failure|failed|report|problem|has (failed|been delayed))"
    r"|returned mail|mail delivery|failure notice|fail(ed|ure) delivery|delivery fail|could ?n[o']t be delivered"
    r"|not (been )?delivered|postmaster notify|mail system error|mail failure|delayed mail|could not send"
    r"|cannot send message|message delivery has failed|error sending your mail|returning (message )?to sender"
    r"|non remis|non recapitabile|unzustellbar|nicht zustellbar|no entregado|niet afgeleverd|non consegnato"
    r"|недостав|не доставлено|配信できません|メールエラー|配送エラー|undelivered|delivery status"
    r"|message .* delayed|mail failed|blocked by|unsolicited bulk email|spamtraphit|are not (a )?member"
    r"|loop (alert|detected)|complaint about message|abuse report|feedback report",
    re.I,
)
BOUNCE_BODY = re.compile(
    r"could ?n[o']t be delivered|was not delivered|not been delivered|undeliverable|delivery to the following"
    r"|permanent(ly)? (error|failure|fatal)|following address(es)? failed|sorry to have to inform you"
    r"|this is the mail system at host|user unknown|unknown user|no such user|mailbox (is )?(full|unavailable"
    r"|not found|does not exist)|recipient address rejected|host or domain name not found|delivery has failed"
    r"|returned to sender|wasn't able to deliver|not able to deliver|unable to deliver|delivery attempts will"
    r"|has not yet been delivered|could not deliver|delivery failed|message could not|final-recipient:"
    r"|diagnostic-code:|the original message was received|transcript of session follows|over quota"
    r"|quota exceeded|rejected your message|550[ -]5\.\d|554[ -]5\.\d|did not reach the following recipient"
    r"|недостав|не доставлено"
    r"|届きませんでした|送信できません|配信できません|unzustellbar|n'a pas pu être remis|non è stato",
    re.I,
)
STRONG_BODY = re.compile(
    r"final-recipient:|diagnostic-code:|this is the mail system at host|sorry to have to inform you"
    r"|transcript of session follows|following address(es)? failed|did not reach the following recipient"
    r"|notificationType\W+(Bounce|Complaint)\b", re.I,
)
"""Wording only a mail system uses: with any sign of a robot sender, the message is a bounce."""
DELIVERED_NOTICE = re.compile(r"notificationType\W+Delivery\b")
"""Amazon SES's delivery notification mailed through SNS: a robot telling us a reply arrived."""
FINAL_SUBJECT = re.compile(r"returned mail|cannot send message for \d+ days|giving up|permanent", re.I)
DELAY_WORDS = re.compile(
    r"delay|will (continue|keep) (to )?try|still trying|not yet been delivered|warning|temporar|deferred"
    r"|will be retried|retrying", re.I,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic|matische)?[ -]?(reply|response|respons|antwort|answer)|autosvar|autoreply"
    r"|out of (the )?office( auto ?reply)?|abwesenheitsnotiz|abwesend|réponse automatique|respuesta automática"
    r"|risposta automatica|automatisch antwoord|vacation( reply)?|自動返信|自動応答)\s*(:|$)", re.I,
)
"""Only as the whole subject or a prefix with a colon: "Out of office hours noise" is a resident."""
WEAK_AUTO_REPLY_SUBJECT = re.compile(r"^\s*(away|on (annual )?leave|on holiday|absent)\b", re.I)
ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
SMTP_REPLY = re.compile(r"(?<!\d)([45][0-5]\d)(?=[ -][A-Za-z<#(\[0-9])")
DSN_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\r?\n[ \t]+.*)*)", re.M)
ANGLE_RECIPIENT = re.compile(r"^\s*<([^<>\s@]+@[^<>\s]+)>:?", re.M)
MESSAGE_ID_LINE = re.compile(rb"^[ \t>]*Message-ID:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\r\n]+>)", re.I | re.M)
BODY_SCAN_BYTES = 2_000_000
"""How much of a bounce's body is searched for the original Message-ID."""
REPORT_TYPES = {
    "message/delivery-status": "delivery-status", "message/global-delivery-status": "delivery-status",
    "message/feedback-report": "feedback-report",
    "message/disposition-notification": "disposition-notification",
    "message/global-disposition-notification": "disposition-notification",
}
REPORT_HINTS = (b"delivery-status", b"feedback-report", b"disposition-notification")
"""Report content types, found by substring: a case-insensitive regex over a large raw message is slow."""
ORIGINAL_TYPES = frozenset({"message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"})


def detect(msg: Message, raw: bytes, *, sender: str, sender_name: str | None, subject: str, text: str,
           envelope_from: str | None, in_reply_to: str | None, references: tuple[str, ...]) -> AutomaticMail | None:
    """The bounce or auto-reply this message is, or None for a contact."""
    reports = _report_parts(msg, raw)

    def original() -> str | None:
        return _original_message_id(msg, raw, text) or in_reply_to or (references[-1] if references else None)

    if "delivery-status" in reports:
        return _from_dsn(reports["delivery-status"], original())
    if "feedback-report" in reports:
        return AutomaticMail("bounce", "complaint: the recipient reported our mail as abuse or spam",
                             original_message_id=original())
    if "disposition-notification" in reports:
        return AutomaticMail("auto_reply", "read receipt (disposition notification)",
                             original_message_id=in_reply_to or original())

    robot = _robot_sender(msg, sender, sender_name, envelope_from)
    failed_header = header(msg, "X-Failed-Recipients")
    head_of_text = text[:20000]
    subject_says = bool(BOUNCE_SUBJECT.search(subject)) and not FORWARDED.match(subject)
    daemon = _local_part(sender) in DAEMON_LOCAL_PARTS or bool(re.search(r"mail ?delivery|mailer.?daemon",
                                                                           sender_name or "", re.I))
    # Cheapest signs first: most mail is a resident's, and the body patterns are long.
    if (failed_header or (subject_says and robot)
            or (daemon and BOUNCE_BODY.search(head_of_text))
            or (robot and STRONG_BODY.search(head_of_text))
            or ((_null_return_path(msg, envelope_from) or subject_says) and _has_original(msg))):
        return _free_text_bounce(head_of_text, subject, failed_header, original())
    if robot and DELIVERED_NOTICE.search(head_of_text):
        return AutomaticMail("auto_reply", "delivery report: delivered", original_message_id=original())

    auto_submitted = (header(msg, "Auto-Submitted") or "").lower()
    if (auto_submitted.startswith("auto-replied") or _has_any(msg, "X-Autoreply", "X-Autorespond",
                                                              "X-Autogenerated", "X-Auto-Reply")
            or (header(msg, "Precedence") or "").lower() == "auto_reply"
            or AUTO_REPLY_SUBJECT.search(subject)
            or (robot and WEAK_AUTO_REPLY_SUBJECT.search(subject))):
        return AutomaticMail("auto_reply", "automatic reply", original_message_id=in_reply_to or original())
    return None


def suppress_reason(msg: Message, *, sender: str, envelope_from: str | None) -> str | None:
    """Why we must not auto-reply to this sender (RFC 3834 section 2), or None."""
    auto_submitted = (header(msg, "Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split("(")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted[:60]}"
    precedence = (header(msg, "Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE or precedence == "auto_reply":
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autogenerated"):
        if header(msg, name) is not None:
            return f"{name} header"
    for name in LIST_HEADERS:
        if header(msg, name) is not None:
            return f"mailing list ({name})"
    if not sender:
        return "no sender address"
    local = _local_part(sender)
    if local in DAEMON_LOCAL_PARTS:
        return "sender is a mail system (MAILER-DAEMON/postmaster)"
    if _null_return_path(msg, envelope_from):
        return "empty Return-Path (<>)"
    if NO_REPLY.match(local):
        return "no-reply sender address"
    return None


# --- standard reports ------------------------------------------------------------------


def _report_parts(msg: Message, raw: bytes) -> dict[str, str]:
    """The machine-readable report parts (DSN, ARF, MDN) by kind, as text."""
    found: dict[str, str] = {}
    lowered = raw.lower()
    if not any(hint in lowered for hint in REPORT_HINTS):
        return found  # most mail: no need to look at every part's Content-Type
    try:
        report_type = (msg.get_param("report-type", header="content-type") or "") \
            if msg.get_content_type() == "multipart/report" else ""
    except Exception:
        report_type = ""
    for part in _parts(msg):
        kind = REPORT_TYPES.get(part.get_content_type())
        if kind and kind not in found:
            found[kind] = decode_bytes(enclosed_bytes(part))
    if isinstance(report_type, str) and report_type.lower() in REPORT_TYPES.values():
        found.setdefault(report_type.lower(), "")
    return found


def _from_dsn(report: str, original: str | None) -> AutomaticMail:
    fields = [(name.lower(), " ".join(value.split())) for name, value in DSN_FIELD.findall(report)]
    actions = [v.lower() for n, v in fields if n == "action"]
    statuses = [m.group(0) for n, v in fields if n == "status" for m in [ENHANCED_STATUS.search(v)] if m]
    diagnostics = [v for n, v in fields if n == "diagnostic-code"]
    recipients = [_address(v) for n, v in fields if n == "final-recipient"] or \
                 [_address(v) for n, v in fields if n == "original-recipient"]
    if actions and all(a in ("delivered", "relayed", "expanded") for a in actions):
        return AutomaticMail("auto_reply", f"delivery report: {actions[0]}", original_message_id=original)
    permanent = "failed" in actions or any(s.startswith("5") for s in statuses)
    if not actions and not statuses:
        permanent = True  # a report with no per-recipient fields: treat as the failure it announces
    status = next((s for s in statuses if s[0] == ("5" if permanent else "4")), statuses[0] if statuses else "")
    what = "delivery failed" if permanent else "delivery delayed"
    reason = " ".join(x for x in (what + ":", status, diagnostics[0] if diagnostics else "") if x)
    return AutomaticMail("bounce", reason[:500].rstrip(":"), original_message_id=original,
                         failed_recipients=_unique(r for r in recipients if r), permanent=permanent)


# --- free-text bounces -------------------------------------------------------------------


def _free_text_bounce(text: str, subject: str, failed_header: str | None, original: str | None) -> AutomaticMail:
    statuses = [m.group(0) for m in ENHANCED_STATUS.finditer(text)]
    codes = SMTP_REPLY.findall(text)
    if any(s.startswith("5") for s in statuses) or any(c.startswith("5") for c in codes):
        permanent = True
    elif statuses or codes:
        permanent = False
    else:
        permanent = not DELAY_WORDS.search(subject + "\n" + text[:3000])
    permanent = permanent or bool(FINAL_SUBJECT.search(subject))
    recipients = [a.strip().strip("<>") for a in (failed_header or "").split(",")]
    recipients += ANGLE_RECIPIENT.findall(text)
    status = next((s for s in statuses if s[0] == ("5" if permanent else "4")), "")
    reason = ("delivery failed" if permanent else "delivery delayed") + (f": {status}" if status else "")
    return AutomaticMail("bounce", reason, original_message_id=original,
                         failed_recipients=_unique(r for r in recipients if "@" in r), permanent=permanent)


# --- helpers ----------------------------------------------------------------------------------


def _original_message_id(msg: Message, raw: bytes, text: str) -> str | None:
    """The Message-ID of the message this robot is reporting on: from its attached copy, else quoted text."""
    for part in _parts(msg):
        if part.get_content_type() not in ORIGINAL_TYPES:
            continue
        data = enclosed_bytes(part) if part.get_content_type().startswith("message/") else part_bytes(part)
        match = MESSAGE_ID_LINE.search(data)
        if match:
            return message_ids.normalise(match.group(1).decode("utf-8", "replace"))
    match = MESSAGE_ID_LINE.search(text[:BODY_SCAN_BYTES].encode("utf-8", "replace"))
    if match is None:
        body_start = _body_offset(raw)
        match = MESSAGE_ID_LINE.search(raw, body_start, body_start + BODY_SCAN_BYTES)
    return message_ids.normalise(match.group(1).decode("utf-8", "replace")) if match else None


def _has_original(msg: Message) -> bool:
    return any(part.get_content_type() in ORIGINAL_TYPES for part in _parts(msg))


def _body_offset(raw: bytes) -> int:
    match = re.search(rb"\r?\n\r?\n|\r\r", raw)
    return match.end() if match else len(raw)


def _parts(msg: Message):
    """Every part, including the top level, without descending into attached messages."""
    stack = [msg]
    while stack:
        part = stack.pop(0)
        yield part
        payload = part.get_payload()
        if isinstance(payload, list) and not part.get_content_type().startswith("message/"):
            stack.extend(p for p in payload if isinstance(p, Message))


def _robot_sender(msg: Message, sender: str, sender_name: str | None, envelope_from: str | None) -> bool:
    """Signs that no person wrote this: auto-submitted, a mail system or no-reply sender, a list, a null path."""
    auto_submitted = (header(msg, "Auto-Submitted") or "no").split("(")[0].strip().lower()
    local = _local_part(sender)
    return (auto_submitted != "no" or local in DAEMON_LOCAL_PARTS or bool(NO_REPLY.match(local))
            or _null_return_path(msg, envelope_from) or _has_any(msg, *LIST_HEADERS)
            or bool(re.search(r"mail ?delivery|mailer.?daemon|postmaster", sender_name or "", re.I)))


def _null_return_path(msg: Message, envelope_from: str | None) -> bool:
    if envelope_from is not None:
        return envelope_from.strip("<> ") == ""
    return_path = header(msg, "Return-Path")
    return return_path is not None and return_path.strip().strip("<>").strip() == ""


def _has_any(msg: Message, *names: str) -> bool:
    return any(header(msg, name) is not None for name in names)


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].strip().lower() if address else ""


def _address(field: str) -> str:
    value = field.split(";", 1)[-1].strip().strip("<>").strip()
    return value.lower() if "@" in value else ""


def _unique(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.lower() for v in values))[:50]
