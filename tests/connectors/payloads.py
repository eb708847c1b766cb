"""Loading the recorded Twilio and Telegram payloads under `fixtures/`, and signing like Twilio."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

FIXTURES = Path(__file__).with_name("fixtures")
TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
TELEGRAM_SECRET = "s3cret-webhook-token_for-tests"


def twilio_form(name: str, **changes: str) -> dict[str, str]:
    return {**json.loads((FIXTURES / "twilio" / f"{name}.json").read_text()), **changes}


def telegram_update(name: str) -> dict:
    return json.loads((FIXTURES / "telegram" / f"{name}.json").read_text())


def signed_post(client, path: str, form: dict[str, str], *, url: str | None = None, token: str = TWILIO_TOKEN):
    """POST the form exactly as Twilio does: urlencoded, signed over `url` (default: the URL called)."""
    signature = RequestValidator(token).compute_signature(url or f"http://testserver{path}", form)
    return client.post(path, content=urlencode(form).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Twilio-Signature": signature})
