"""Telegram files fetched with the real python-telegram-bot (getFile, then the file URL) from the fake Bot API."""

from __future__ import annotations

import pytest

from tests.connectors.fake_telegram import TOKEN, FakeBotApi
from triage.config import Settings
from triage.connectors.base import TransportError
from triage.connectors.fetchers import build_fetcher
from triage.connectors.telegram.parse import file_url
from triage.connectors.telegram.transport import file_base

PHOTO = b"\xff\xd8\xff\xe0" + b"fly-tipping" * 300


@pytest.fixture
def bot_api():
    with FakeBotApi() as fake:
        yield fake


def fetcher(bot_api, **changes):
    return build_fetcher("telegram", Settings(**{"telegram_token": TOKEN, "telegram_api_base": bot_api.base_url,
                                                 **changes}))


def test_file_base_follows_the_api_base():
    assert file_base("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base("http://127.0.0.1:8081/bot{token}") == "http://127.0.0.1:8081/file/bot{token}"
    assert file_base("https://botapi.example/v1") == "https://api.telegram.org/file/bot"


def test_photo_is_fetched_with_get_file_then_downloaded(bot_api):
    bot_api.add_file("AgACAgQAAxkBAAIBlarge", PHOTO, "photos/file_7.jpg")
    media = fetcher(bot_api).fetch(file_url("AgACAgQAAxkBAAIBlarge"))
    assert (media.data, media.content_type) == (PHOTO, "image/jpeg")
    assert ("getFile", {"file_id": "AgACAgQAAxkBAAIBlarge"}) in bot_api.calls


def test_unknown_file_is_permanent(bot_api):
    with pytest.raises(TransportError, match="BadRequest") as failure:
        fetcher(bot_api).fetch(file_url("gone"))
    assert failure.value.permanent


def test_wrong_token_is_permanent(bot_api):
    bot_api.add_file("f1", PHOTO)
    with pytest.raises(TransportError, match="InvalidToken") as failure:
        fetcher(bot_api, telegram_token="654321:not-our-bot").fetch(file_url("f1"))
    assert failure.value.permanent


@pytest.mark.parametrize("state_size", [True, False])
def test_file_over_the_limit_is_permanent_whether_or_not_telegram_states_its_size(bot_api, state_size):
    bot_api.add_file("f1", PHOTO, state_size=state_size)
    with pytest.raises(TransportError, match="larger than 100 bytes") as failure:
        fetcher(bot_api, max_attachment_bytes=100).fetch(file_url("f1"))
    assert failure.value.permanent


def test_unreachable_bot_api_is_temporary():
    with pytest.raises(TransportError, match="unavailable") as failure:
        build_fetcher("telegram", Settings(telegram_token=TOKEN, telegram_api_base="http://127.0.0.1:9/bot")).fetch(
            file_url("f1"))
    assert not failure.value.permanent
