"""Twilio webhook forms -> InboundMessage, one test per recorded payload; keywords."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from tests.connectors.payloads import twilio_form
from triage.connectors.sms.keywords import detect_keyword
from triage.connectors.sms.parse import BadSmsForm, parse_sms

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def parse(form: dict[str, str]):
    return parse_sms(form, urlencode(form).encode(), NOW)


def test_text_message_keeps_the_message_sid_and_normalised_sender():
    msg = parse(twilio_form("sms_text"))
    assert msg.channel == "sms"
    assert msg.external_id == "SM0b8e7d4f2a6c4e1f9d3b5a7c9e1f3a5b"
    assert (msg.sender.kind, msg.sender.value) == ("phone", "+447911123456")
    assert msg.text == "When is my green bin collected? I live on Mill Lane."
    assert msg.received_at == NOW
    assert msg.raw == urlencode(twilio_form("sms_text")).encode()
    assert msg.raw_content_type == "application/x-www-form-urlencoded"
    assert msg.meta["To"] == "+447400123456"
    assert "keyword" not in msg.meta
    assert msg.attachments == ()


def test_mms_media_are_attachments_to_fetch():
    msg = parse(twilio_form("mms_photo"))
    assert msg.text == "Pothole outside number 12 \U0001f6a7"
    assert [(a.content_type, a.role, a.data) for a in msg.attachments] == [
        ("image/jpeg", "to_fetch", None), ("image/png", "to_fetch", None)]
    assert msg.attachments[0].url.endswith("/Media/ME11111111111111111111111111111111")


@pytest.mark.parametrize("given", ["07911 123456", "447911123456", "+44 7911 123456"])
def test_sender_numbers_are_normalised_to_e164(given):
    assert parse(twilio_form("sms_text", From=given)).sender.value == "+447911123456"


def test_alphanumeric_senders_are_kept_as_given():
    assert parse(twilio_form("sms_text", From="CouncilTax")).sender.value == "CouncilTax"


@pytest.mark.parametrize("field", ["MessageSid", "From"])
def test_missing_required_field_is_refused(field):
    form = twilio_form("sms_text")
    del form[field]
    with pytest.raises(BadSmsForm, match=field):
        parse(form)


def test_media_count_without_urls_is_refused():
    with pytest.raises(BadSmsForm, match="MediaUrl0"):
        parse(twilio_form("sms_text", NumMedia="1"))


@pytest.mark.parametrize("fixture, keyword", [("sms_stop", "stop"), ("sms_start", "start"), ("sms_help", "help")])
def test_keyword_messages_are_marked(fixture, keyword):
    assert parse(twilio_form(fixture)).meta["keyword"] == keyword


@pytest.mark.parametrize("body, keyword", [
    ("STOP", "stop"), ("stopall", "stop"), ("Unsubscribe", "stop"), ("cancel", "stop"), ("END", "stop"),
    ("quit.", "stop"), ("  Stop!  ", "stop"), ("start", "start"), ("YES", "start"), ("unstop", "start"),
    ("HELP", "help"), ("info", "help"),
])
def test_twilio_keywords_and_synonyms(body, keyword):
    assert detect_keyword(body) == keyword


@pytest.mark.parametrize("body", ["Please stop sending me letters", "stop it", "", "helpful", "yes please"])
def test_words_inside_a_sentence_are_not_keywords(body):
    assert detect_keyword(body) is None
