"""Replies by email, sent to a local aiosmtpd capture server: headers, threading, and SMTP's verdicts."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tests.helpers import free_port
from triage.config import ConfigError, Settings
from triage.connectors.base import OutboundMessage, TransportError
from triage.connectors.email.parse import parse_email
from triage.connectors.email.transport import EmailSender, Relay, build_sender


class Capture:
    """An SMTP server that keeps what it is sent, or answers with a chosen refusal per recipient."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"


@pytest.fixture
def capture():
    handler = Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def sender_for(capture, mail_from: str = "Customer Services <customer.services@council.example>") -> EmailSender:
    settings = Settings(outbound_smtp_url=f"smtp://127.0.0.1:{capture.port}", mail_from=mail_from)
    return build_sender(settings)


def reply(**overrides) -> OutboundMessage:
    values = dict(
        reply_id=41, channel="email", recipient="jo@example.org", text="We have logged your report.",
        subject="Your report about a pothole", html="<p>We have logged your report.</p>", automatic=True,
        case_reference="T-000123", in_reply_to="<pothole.1@example.org>",
        references=("<first@example.org>", "<pothole.1@example.org>"), meta={"idempotency_key": "17:ack"},
    )
    values.update(overrides)
    return OutboundMessage(**values)


def test_reply_headers_and_parts(capture):
    result = sender_for(capture).send(reply())

    [(mail_from, rcpt, raw)] = capture.received
    assert (mail_from, rcpt) == ("customer.services@council.example", ["jo@example.org"])
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert sent["From"] == "Customer Services <customer.services@council.example>"
    assert sent["To"] == "jo@example.org"
    assert sent["Subject"] == "Your report about a pothole [Ref: T-000123]"
    assert sent["Message-ID"] == result.provider_id
    assert result.provider_id.startswith("<triage.41.") and result.provider_id.endswith("@council.example>")
    assert sent["In-Reply-To"] == "<pothole.1@example.org>"
    assert sent["References"] == "<first@example.org> <pothole.1@example.org>"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["Date"] is not None
    assert sent.get_content_type() == "multipart/alternative"
    assert sent.get_body(("plain",)).get_content().strip() == "We have logged your report."
    assert sent.get_body(("html",)).get_content().strip() == "<p>We have logged your report.</p>"


def test_a_resent_reply_has_the_same_message_id(capture):
    first = sender_for(capture).send(reply())
    again = sender_for(capture).send(reply())
    other = sender_for(capture).send(reply(reply_id=42, meta={"idempotency_key": "17:holding"}))
    assert first.provider_id == again.provider_id != other.provider_id


def test_staff_reply_is_not_marked_automatic_and_the_reference_is_not_doubled(capture):
    sender_for(capture).send(reply(automatic=False, html=None, subject="Re: Pothole [Ref: T-000123]"))
    sent = email.message_from_bytes(capture.received[0][2], policy=policy.default)
    assert sent["Auto-Submitted"] is None
    assert sent["Subject"] == "Re: Pothole [Ref: T-000123]"
    assert sent.get_content_type() == "text/plain"


def test_residents_answer_to_our_reply_threads_back(capture):
    """What we send, parsed as the resident's client would quote it, carries the case reference and our id."""
    result = sender_for(capture).send(reply())
    answer = (f"From: jo@example.org\r\nSubject: Re: Your report about a pothole [Ref: T-000123]\r\n"
              f"In-Reply-To: {result.provider_id}\r\nReferences: {result.provider_id}\r\n\r\nThanks!\r\n").encode()
    msg = parse_email(answer, max_attachment_bytes=1000)
    assert msg.case_reference == "T-000123" and msg.in_reply_to == result.provider_id


@pytest.mark.parametrize("answer, permanent", [
    ("550 5.1.1 No such user here", True),
    ("553 5.1.3 Bad recipient address syntax", True),
    ("450 4.2.1 Mailbox busy, try later", False),
    ("451 4.3.0 Local problem", False),
])
def test_smtp_refusals_are_permanent_only_when_5xx(capture, answer, permanent):
    capture.refuse["jo@example.org"] = answer
    with pytest.raises(TransportError) as failure:
        sender_for(capture).send(reply())
    assert failure.value.permanent is permanent
    assert answer[:3] in str(failure.value)
    assert capture.received == []


def test_unreachable_relay_is_temporary():
    sender = EmailSender(Relay("127.0.0.1", free_port()), "customer.services@council.example")
    with pytest.raises(TransportError) as failure:
        sender.send(reply())
    assert failure.value.permanent is False


def test_recipient_that_is_not_an_address_is_permanent(capture):
    with pytest.raises(TransportError) as failure:
        sender_for(capture).send(reply(recipient="not an address"))
    assert failure.value.permanent is True


def test_relay_url_forms_and_configuration_errors():
    assert Relay.from_url("smtps://user%40x:p%2Fw@relay.example") == Relay(
        "relay.example", 465, "user@x", "p/w", implicit_tls=True)
    assert Relay.from_url("smtp://relay.example:587?starttls=yes") == Relay("relay.example", 587, starttls=True)
    with pytest.raises(ConfigError):
        Relay.from_url("http://relay.example")
    with pytest.raises(ConfigError):
        build_sender(Settings(outbound_smtp_url=None))
    with pytest.raises(ConfigError):
        build_sender(Settings(outbound_smtp_url="smtp://relay.example", mail_from="nobody"))
