"""MMS media from Twilio: the bytes behind a `MediaUrl<n>`, fetched with the account's credentials.

Twilio can require HTTP Basic auth on media, and its media URLs redirect to a
short-lived CDN address. httpx follows the redirect (dropping the credentials when
the host changes); the twilio library's own HTTP client returns bodies as text,
which would corrupt images. Credentials go only to Twilio's hosts (or to
`twilio_api_base`, for tests), never to whatever URL a form carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from triage.config import Settings
from triage.connectors.base import FetchedMedia, TransportError, too_large

TIMEOUT_SECONDS = 30
RETRYABLE_STATUS = {408, 425, 429}
"""4xx answers that mean "not now" rather than "never"."""


@dataclass
class TwilioMediaFetcher:
    channel = "sms"
    account_sid: str
    auth_token: str
    max_bytes: int
    trusted_host: str | None = None
    """A host besides *.twilio.com that may be sent the credentials (the local fake in tests)."""

    def fetch(self, url: str) -> FetchedMedia:
        self._check_host(url)
        data = bytearray()
        try:
            with httpx.Client(auth=(self.account_sid, self.auth_token), follow_redirects=True,
                              timeout=TIMEOUT_SECONDS) as client, client.stream("GET", url) as response:
                _check_status(response.status_code)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise too_large(self.max_bytes)
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise too_large(self.max_bytes)
                content_type = response.headers.get("Content-Type")
        except httpx.TooManyRedirects as exc:
            raise TransportError("Twilio media redirected too many times", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"cannot fetch Twilio media: {exc.__class__.__name__}") from exc
        return FetchedMedia(bytes(data), content_type.split(";")[0].strip().lower() if content_type else None)

    def _check_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if host == "twilio.com" or host.endswith(".twilio.com") or (host and host == self.trusted_host):
            return
        raise TransportError("media URL is not at Twilio", permanent=True)


def _check_status(status: int) -> None:
    if status < 400:
        return
    if status in (401, 403):
        raise TransportError(f"Twilio refused the media credentials (HTTP {status})", permanent=True)
    if status < 500 and status not in RETRYABLE_STATUS:
        raise TransportError(f"Twilio media not available (HTTP {status})", permanent=True)
    raise TransportError(f"Twilio media HTTP {status}")



def build_fetcher(settings: Settings) -> TwilioMediaFetcher:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise TransportError("Twilio media need TRIAGE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN")
    trusted = urlsplit(settings.twilio_api_base).hostname if settings.twilio_api_base else None
    return TwilioMediaFetcher(settings.twilio_account_sid, settings.twilio_auth_token,
                              settings.max_attachment_bytes, trusted)
