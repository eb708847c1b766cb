"""`POST /webhooks/telegram`: the secret-token header, intake before 200, `/start` answered with the bot."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.connectors.channels import client_for, count, runtime_with, without_database
from tests.connectors.fake_telegram import FakeBotApi
from tests.connectors.payloads import TELEGRAM_SECRET, telegram_update
from triage.store.models import AttachmentRow, Message

HOOK = "/webhooks/telegram"


@pytest.fixture
def bot_api():
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def rt(runtime, bot_api):
    return runtime_with(runtime, telegram_api_base=bot_api.base_url)


@pytest.fixture
def client(rt):
    return client_for(rt)


def post(client, update, secret: str | None = TELEGRAM_SECRET, **headers):
    headers = {"Content-Type": "application/json", **headers}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return client.post(HOOK, content=body, headers=headers)


def test_text_message_is_stored_before_the_200(rt, client):
    response = post(client, telegram_update("text"))
    assert response.status_code == 200
    with rt.sessions() as session:
        message = session.scalars(select(Message)).one()
    assert (message.external_id, message.sender_value, message.status) == ("5550001:57", "5550001", "queued")
    assert message.contact_points == [{"kind": "email", "value": "megan.jones@example.org"}]


def test_photo_with_caption_is_stored_with_the_photo_as_an_attachment(rt, client):
    assert post(client, telegram_update("photo_caption")).status_code == 200
    with rt.sessions() as session:
        message = session.scalars(select(Message)).one()
        [photo] = session.scalars(select(AttachmentRow)).all()
    assert message.text == "Fly-tipping behind the shops on Station Road"
    assert (photo.role, photo.url) == ("to_fetch", "telegram-file:AgACAgQAAxkBAAIBlarge")


def test_telegram_retrying_an_update_stores_it_once(rt, client):
    for _ in range(3):
        assert post(client, telegram_update("text")).status_code == 200
    assert count(rt, Message) == 1


def test_start_is_greeted_with_the_bot_and_stores_nothing(rt, client, bot_api):
    assert post(client, telegram_update("start")).status_code == 200
    [greeting] = bot_api.sent
    assert greeting["chat_id"] == "5550002"
    assert "Example Borough Council" in greeting["text"] and "999" in greeting["text"]
    assert count(rt, Message) == 0


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_missing_or_wrong_secret_is_403_and_nothing_stored(rt, client, secret):
    assert post(client, telegram_update("text"), secret=secret).status_code == 403
    assert count(rt, Message) == 0


def test_without_a_webhook_secret_configured_the_endpoint_does_not_exist(runtime, bot_api):
    rt = runtime_with(runtime, telegram_secret=None, telegram_api_base=bot_api.base_url)
    assert post(client_for(rt), telegram_update("text")).status_code == 404


def test_database_down_answers_503_so_telegram_retries(rt, client):
    assert post(client_for(without_database(rt)), telegram_update("text")).status_code == 503
    assert post(client, telegram_update("text")).status_code == 200
    assert count(rt, Message) == 1


def test_updates_without_anything_to_read_are_acknowledged(rt, client):
    assert post(client, telegram_update("sticker")).status_code == 200
    assert post(client, telegram_update("edited_message")).status_code == 200
    assert count(rt, Message) == 0


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b'{"message": {"text": "no update id"}}', 400),
    (b'{"update_id": 1, "message": {"message_id": 2}}', 400),
    (b'\xff\xfe{"update_id": 1}', 400),
    (b"{" + b'"pad": "' + b"x" * (1024 * 1024) + b'"}', 413),
])
def test_bad_bodies_get_a_clear_4xx(rt, client, body, status):
    assert post(client, body).status_code == status
    assert count(rt, Message) == 0


def test_wrong_content_type_is_415(rt, client):
    response = post(client, telegram_update("text"), **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
