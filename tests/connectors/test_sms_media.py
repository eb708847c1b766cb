"""MMS media fetched with httpx from a local server that serves media like Twilio (Basic auth, then a redirect)."""

from __future__ import annotations

import pytest

from tests.connectors.fake_twilio import FakeTwilio
from tests.connectors.payloads import TWILIO_SID, TWILIO_TOKEN
from triage.config import Settings
from triage.connectors.base import TransportError
from triage.connectors.fetchers import build_fetcher

PHOTO = b"\xff\xd8\xff\xe0" + b"pothole" * 500


@pytest.fixture
def twilio():
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


def fetcher(twilio, **changes):
    values = {"twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN,
              "twilio_api_base": twilio.base_url, **changes}
    return build_fetcher("sms", Settings(**values))


def test_media_are_fetched_with_basic_auth_through_the_redirect(twilio):
    url = twilio.add_media("ME11", PHOTO, "image/jpeg")
    media = fetcher(twilio).fetch(url)
    assert (media.data, media.content_type) == (PHOTO, "image/jpeg")
    assert twilio.media_requests == [url.removeprefix(twilio.base_url), "/cdn/ME11"]


def test_wrong_credentials_are_permanent(twilio):
    url = twilio.add_media("ME11", PHOTO)
    with pytest.raises(TransportError, match="credentials") as failure:
        fetcher(twilio, twilio_auth_token="not-the-token").fetch(url)
    assert failure.value.permanent


def test_missing_media_are_permanent(twilio):
    with pytest.raises(TransportError, match="404") as failure:
        fetcher(twilio).fetch(twilio.media_url("ME404"))
    assert failure.value.permanent


def test_media_over_the_limit_are_permanent(twilio):
    url = twilio.add_media("ME11", PHOTO)
    with pytest.raises(TransportError, match="larger than 100 bytes") as failure:
        fetcher(twilio, max_attachment_bytes=100).fetch(url)
    assert failure.value.permanent


def test_server_errors_and_unreachable_hosts_are_temporary(twilio):
    url = twilio.add_media("ME11", PHOTO)
    twilio.media_failures.append(503)
    with pytest.raises(TransportError, match="503") as failure:
        fetcher(twilio).fetch(url)
    assert not failure.value.permanent
    assert fetcher(twilio).fetch(url).data == PHOTO  # the retry works
    with pytest.raises(TransportError, match="ConnectError") as failure:
        fetcher(twilio, twilio_api_base="http://127.0.0.1:9").fetch("http://127.0.0.1:9/2010-04-01/Media/ME1")
    assert not failure.value.permanent


def test_credentials_go_only_to_twilio(twilio):
    with pytest.raises(TransportError, match="not at Twilio") as failure:
        fetcher(twilio).fetch("https://attacker.example/2010-04-01/Media/ME11")
    assert failure.value.permanent
    assert twilio.media_requests == []


def test_without_credentials_media_wait_for_configuration():
    with pytest.raises(TransportError, match="TRIAGE_TWILIO_ACCOUNT_SID") as failure:
        build_fetcher("sms", Settings())
    assert not failure.value.permanent
