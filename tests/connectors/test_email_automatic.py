"""Robots versus residents: bounces, auto-replies and the RFC 3834 'never answer this' signs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from triage.connectors.email.parse import Envelope, parse_email

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
OUR_REPLY = "<triage.41.9f8e7d6c5b4a39281706@council.example>"


def parse(raw: bytes, envelope: Envelope | None = None):
    return parse_email(raw, max_attachment_bytes=1 << 20, envelope=envelope,
                       arrived_at=datetime(2026, 3, 10, tzinfo=UTC))


def dsn(action: str, status: str, *, diagnostic: str = "smtp; 550 5.1.1 <gone@example.net>: no such user") -> bytes:
    """An RFC 3464 report on our reply OUR_REPLY, as a Postfix would send it."""
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        "To: customer.services@council.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Message-ID: <bounce.1@mx.example.net>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; Gone@Example.net\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: customer.services@council.example\r\nTo: gone@example.net\r\nMessage-ID: {OUR_REPLY}\r\n"
        "Subject: Your report [Ref: T-000041]\r\n\r\n--B--\r\n"
    ).encode()


def test_permanent_dsn_names_our_reply_and_the_failed_recipient():
    msg = parse(dsn("failed", "5.1.1"))
    assert msg.kind == "bounce"
    assert msg.automatic.original_message_id == OUR_REPLY
    assert msg.automatic.failed_recipients == ("gone@example.net",)
    assert msg.automatic.permanent is True
    assert "5.1.1" in msg.automatic.reason


def test_delayed_dsn_is_not_permanent():
    msg = parse(dsn("delayed", "4.4.1", diagnostic="smtp; 421 4.4.1 try later"))
    assert msg.kind == "bounce" and msg.automatic.permanent is False


def test_success_dsn_is_automatic_but_not_a_bounce():
    msg = parse(dsn("delivered", "2.0.0", diagnostic="smtp; 250 ok"))
    assert msg.kind == "auto_reply" and msg.automatic.original_message_id == OUR_REPLY


def test_postfix_dsn_from_the_wild():
    msg = parse((FIXTURES / "sisimai-lhost-postfix-01.eml").read_bytes())
    assert msg.kind == "bounce" and msg.automatic.permanent
    assert msg.automatic.failed_recipients == ("r@p351355.pool.example.ne.jp",)
    assert msg.automatic.reason.startswith("delivery failed: 5.1.1")
    assert msg.automatic.original_message_id is None  # its message/rfc822 part is empty


def test_postfix_bounce_after_an_mbox_from_line():
    msg = parse((FIXTURES / "flanker-bounce-zed.eml").read_bytes())
    assert msg.kind == "bounce" and msg.automatic.permanent
    assert msg.automatic.original_message_id


def test_free_text_qmail_bounce():
    msg = parse((FIXTURES / "sisimai-lhost-qmail-01.eml").read_bytes())
    assert msg.kind == "bounce" and msg.automatic.permanent


def test_vacation_auto_reply():
    msg = parse((FIXTURES / "sisimai-rfc3834-01.eml").read_bytes())
    assert msg.kind == "auto_reply"
    assert msg.meta["suppress_auto_reply"].startswith("Auto-Submitted")


def test_person_forwarding_a_message_as_attachment_is_a_contact():
    msg = parse((FIXTURES / "sisimai-is-not-bounce-02.eml").read_bytes())
    assert msg.kind == "contact"


def outlook_out_of_office() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Officer <officer@other-council.example>"
    mail["Subject"] = "Automatic reply: Your report [Ref: T-000041]"
    mail["In-Reply-To"] = OUR_REPLY
    mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content("I am out of the office until Monday.")
    return mail.as_bytes()


def test_out_of_office_links_to_the_reply_it_answers():
    msg = parse(outlook_out_of_office())
    assert msg.kind == "auto_reply" and msg.automatic.original_message_id == OUR_REPLY


@pytest.mark.parametrize("subject", [
    "Fwd: Undeliverable: my letter to the housing team",
    "Re: Mail delivery failed",
    "Out of office hours noise from the pub",
    "Undelivered parcel left in the road",
])
def test_residents_whose_subjects_sound_like_robots_are_contacts(subject):
    mail = EmailMessage()
    mail["From"] = "Resident <resident@example.org>"
    mail["Subject"] = subject
    mail.set_content("Please can someone help, the message below could not be delivered to you.")
    assert parse(mail.as_bytes()).kind == "contact"


def test_abuse_complaint_is_recorded_not_triaged():
    raw = (
        "From: feedback@fbl.example.net\r\nSubject: Abuse report\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        "--F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n\r\n"
        f"--F\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: {OUR_REPLY}\r\nSubject: x\r\n\r\nbody\r\n--F--\r\n"
    ).encode()
    msg = parse(raw)
    assert msg.kind == "bounce" and msg.automatic.permanent is False
    assert msg.automatic.original_message_id == OUR_REPLY


def test_read_receipt_is_automatic():
    raw = (
        "From: resident@example.org\r\nSubject: Read: Your report\r\n"
        f"In-Reply-To: {OUR_REPLY}\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\r\n\r\n'
        "--M\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n"
        "--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822; resident@example.org\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        "\r\n--M--\r\n"
    ).encode()
    msg = parse(raw)
    assert msg.kind == "auto_reply" and msg.automatic.original_message_id == OUR_REPLY


def contact(headers: dict[str, str], sender: str = "Resident <resident@example.org>") -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["Subject"] = "Council tax question"
    for name, value in headers.items():
        mail[name] = value
    mail.set_content("How do I pay my council tax?")
    return mail.as_bytes()


@pytest.mark.parametrize("headers, sender, envelope, reason", [
    ({}, "Resident <resident@example.org>", None, None),
    ({"Auto-Submitted": "no"}, "resident@example.org", None, None),
    ({"Auto-Submitted": "auto-generated"}, "resident@example.org", None, "Auto-Submitted: auto-generated"),
    ({"Precedence": "bulk"}, "resident@example.org", None, "Precedence: bulk"),
    ({"Precedence": "list"}, "resident@example.org", None, "Precedence: list"),
    ({"List-Id": "<residents.lists.example.org>"}, "resident@example.org", None, "mailing list (List-Id)"),
    ({}, "MAILER-DAEMON@mx.example.org", None, "sender is a mail system (MAILER-DAEMON/postmaster)"),
    ({}, "postmaster@example.org", None, "sender is a mail system (MAILER-DAEMON/postmaster)"),
    ({"Return-Path": "<>"}, "forms@example.org", None, "empty Return-Path (<>)"),
    ({}, "forms@example.org", Envelope("", ("c@council.example",)), "empty Return-Path (<>)"),
    ({}, "no-reply@portal.example.org", None, "no-reply sender address"),
    ({}, "DoNotReply@portal.example.org", None, "no-reply sender address"),
])
def test_robot_mail_that_is_still_a_contact_is_marked_do_not_auto_reply(headers, sender, envelope, reason):
    msg = parse(contact(headers, sender), envelope)
    assert msg.kind == "contact"
    assert msg.meta.get("suppress_auto_reply") == reason


@pytest.mark.parametrize("name", ["X-Autoreply", "X-Autorespond"])
def test_autoresponder_headers_make_an_auto_reply_never_answered(name):
    msg = parse(contact({name: "yes"}))
    assert msg.kind == "auto_reply"
    assert msg.meta["suppress_auto_reply"] == f"{name} header"
