"""Outbound SMS through the real twilio client, against a local server that speaks the Messages API."""

from __future__ import annotations

import pytest

from tests.connectors.fake_twilio import FakeTwilio
from tests.connectors.payloads import TWILIO_SID, TWILIO_TOKEN
from tests.helpers import free_port
from triage.config import Settings
from triage.connectors.base import OutboundMessage, TransportError
from triage.connectors.sms.transport import build_sender

REPLY = OutboundMessage(reply_id=7, channel="sms", recipient="+447911123456",
                        text="Your green bin is collected every other Tuesday.")


def settings(api_base: str, **extra) -> Settings:
    values = {"twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN, "twilio_from": "+447400123456",
              "twilio_api_base": api_base, "public_base_url": "https://triage.council.example", **extra}
    return Settings(**values)


@pytest.fixture
def twilio():
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


def test_reply_is_sent_with_a_status_callback_and_returns_the_message_sid(twilio):
    result = build_sender(settings(twilio.base_url)).send(REPLY)

    assert result.provider_id.startswith("SM") and result.status == "sent"
    [request] = twilio.requests
    assert request == {"To": "+447911123456", "From": "+447400123456", "Body": REPLY.text,
                       "StatusCallback": "https://triage.council.example/webhooks/twilio/status"}


def test_messaging_service_sid_is_sent_as_such(twilio):
    build_sender(settings(twilio.base_url, twilio_from="MG1f2e3d4c5b6a79881726354453627180")).send(REPLY)
    assert twilio.requests[0]["MessagingServiceSid"] == "MG1f2e3d4c5b6a79881726354453627180"
    assert "From" not in twilio.requests[0]


def test_without_a_public_url_no_status_callback_is_asked_for(twilio):
    build_sender(settings(twilio.base_url, public_base_url=None)).send(REPLY)
    assert "StatusCallback" not in twilio.requests[0]


@pytest.mark.parametrize("code, message", [
    (21211, "The 'To' number +447911123456 is not a valid phone number."),
    (21614, "'To' number is not a valid mobile number"),
    (21610, "Attempt to send to unsubscribed recipient"),
])
def test_invalid_or_opted_out_recipients_fail_permanently(twilio, code, message):
    twilio.fail_next(400, code, message)
    with pytest.raises(TransportError) as err:
        build_sender(settings(twilio.base_url)).send(REPLY)
    assert err.value.permanent
    assert str(code) in str(err.value)


@pytest.mark.parametrize("status, code", [(500, 20500), (503, 20503), (429, 20429)])
def test_server_errors_and_rate_limits_are_temporary(twilio, status, code):
    twilio.fail_next(status, code, "Service unavailable")
    with pytest.raises(TransportError) as err:
        build_sender(settings(twilio.base_url)).send(REPLY)
    assert not err.value.permanent


def test_wrong_credentials_are_temporary_so_an_administrator_can_fix_them(twilio):
    sender = build_sender(settings(twilio.base_url, twilio_auth_token="wrong"))
    with pytest.raises(TransportError) as err:
        sender.send(REPLY)
    assert not err.value.permanent


def test_unreachable_twilio_is_temporary():
    with pytest.raises(TransportError) as err:
        build_sender(settings(f"http://127.0.0.1:{free_port()}")).send(REPLY)
    assert not err.value.permanent
    assert "cannot reach Twilio" in str(err.value)


def test_unconfigured_sms_is_refused_plainly():
    with pytest.raises(TransportError, match="SMS is not configured"):
        build_sender(Settings())
