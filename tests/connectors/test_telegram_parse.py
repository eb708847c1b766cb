"""Telegram updates -> InboundMessage, one test per recorded update."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from telegram import Update

from tests.connectors.payloads import telegram_update
from triage.connectors.telegram.inbound import greeting
from triage.connectors.telegram.parse import is_greeting_command, parse_update
from triage.council import load_council
from triage.message import Identity


def parse(name: str):
    data = telegram_update(name)
    return parse_update(Update.de_json(data), json.dumps(data).encode())


def test_text_message():
    msg = parse("text")
    assert msg.channel == "telegram"
    assert msg.external_id == "5550001:57"
    assert msg.sender == Identity("telegram", "5550001", "Megan Jones")
    assert msg.text.startswith("Hello, can I still renew my library books online?")
    assert msg.received_at == datetime.fromtimestamp(1795600000, UTC)
    assert json.loads(msg.raw) == telegram_update("text")
    assert msg.raw_content_type == "application/json"
    assert msg.meta == {"update_id": 800000001, "chat_type": "private"}


def test_typed_email_address_becomes_a_contact_point():
    assert parse("text").contact_points == (Identity("email", "megan.jones@example.org"),)


def test_photo_caption_is_the_text_and_the_largest_photo_an_attachment_to_fetch():
    msg = parse("photo_caption")
    assert msg.text == "Fly-tipping behind the shops on Station Road"
    [photo] = msg.attachments
    assert (photo.content_type, photo.role, photo.url) == ("image/jpeg", "to_fetch",
                                                           "telegram-file:AgACAgQAAxkBAAIBlarge")


def test_reply_to_one_of_our_messages_is_a_thread_hint():
    assert parse("reply_to_bot").in_reply_to == "5550001:1001"


def test_shared_phone_contact_becomes_a_contact_point():
    msg = parse("shared_contact")
    assert msg.text == ""
    assert msg.contact_points == (Identity("phone", "+447911123456"),)


def test_voice_note_is_kept_as_an_attachment_to_fetch():
    msg = parse("voice")
    assert [(a.content_type, a.url) for a in msg.attachments] == [("audio/ogg", "telegram-file:AwACAgQAAxkBAAIBvoice")]


def test_updates_with_nothing_to_read_are_ignored():
    assert parse("sticker") is None
    assert parse("edited_message") is None


def test_start_and_help_are_greeting_commands_and_other_text_is_not():
    assert is_greeting_command(Update.de_json(telegram_update("start")))
    for text in ("/help", "/start@council_test_bot", "/START"):
        data = telegram_update("start")
        data["message"]["text"] = text
        assert is_greeting_command(Update.de_json(data)), text
    assert not is_greeting_command(Update.de_json(telegram_update("text")))


def test_greeting_names_the_council_says_what_the_bot_does_and_how_to_get_urgent_help():
    text = greeting(load_council())
    assert "Example Borough Council" in text and "Cyngor Bwrdeistref Enghraifft" in text
    assert "photo" in text and "reference" in text
    assert "999" in text and "0300 123 4999" in text
