"""Outbound SMS through the Twilio REST client.

`TransportError(permanent=True)` for numbers Twilio will never deliver to (so the
reply is marked failed for staff at once); temporary for Twilio's 5xx, rate limits
and network trouble, which the outbound queue retries with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from triage.config import Settings
from triage.connectors.base import OutboundMessage, SendResult, TransportError

STATUS_PATH = "/webhooks/twilio/status"
TIMEOUT_SECONDS = 15
"""Seconds one request to Twilio may take before it counts as a temporary failure."""

PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21265: "'To' number is a short code",
    21407: "sending to this country is not enabled",
    21408: "permission to send to this region is not enabled",
    21610: "recipient has opted out (STOP)",
    21612: "Twilio cannot route to this number",
    21614: "'To' number is not a mobile number",
}
"""Twilio error codes that no retry can fix: the recipient, not the moment, is the problem."""


@dataclass
class SmsSender:
    channel = "sms"
    client: Client
    sender: str
    """A phone number, or a Messaging Service SID (starts with MG)."""
    status_callback: str | None = None

    def send(self, message: OutboundMessage) -> SendResult:
        origin = {"messaging_service_sid": self.sender} if self.sender.startswith("MG") else {"from_": self.sender}
        if self.status_callback:
            origin["status_callback"] = self.status_callback
        try:
            sent = self.client.messages.create(to=message.recipient, body=message.text, **origin)
        except TwilioRestException as exc:
            if exc.code in PERMANENT_CODES:
                raise TransportError(f"Twilio {exc.code}: {PERMANENT_CODES[exc.code]}", permanent=True) from exc
            raise TransportError(f"Twilio HTTP {exc.status} (code {exc.code})") from exc
        except RequestException as exc:
            raise TransportError(f"cannot reach Twilio: {exc.__class__.__name__}") from exc
        return SendResult(provider_id=sent.sid)


def build_sender(settings: Settings) -> SmsSender:
    """The SMS sender for this installation; `twilio_api_base` points the client elsewhere (tests)."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from):
        raise TransportError("SMS is not configured (TRIAGE_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM)")
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    if settings.twilio_api_base:
        client.api.base_url = settings.twilio_api_base
    callback = settings.public_base_url.rstrip("/") + STATUS_PATH if settings.public_base_url else None
    return SmsSender(client, settings.twilio_from, callback)
