"""The real python-telegram-bot against a local fake Bot API: replies, polling, webhook registration."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from tests.connectors.channels import count, runtime_with, without_database
from tests.connectors.fake_telegram import TOKEN, FakeBotApi
from tests.connectors.payloads import TELEGRAM_SECRET, telegram_update
from tests.helpers import free_port
from triage.cli import main as cli
from triage.config import Settings
from triage.connectors.base import OutboundMessage, TransportError
from triage.connectors.telegram.inbound import inbound_for
from triage.connectors.telegram.polling import TelegramPoller, polling_service
from triage.connectors.telegram.transport import build_sender, split_text
from triage.store.models import Message


@pytest.fixture
def bot_api():
    with FakeBotApi() as fake:
        yield fake


def reply(text: str = "Yes: renew online at https://www.council.example/library.", chat: str = "5550001"):
    return OutboundMessage(reply_id=3, channel="telegram", recipient=chat, text=text)


# --- sending ------------------------------------------------------------------------------


def test_reply_is_sent_with_the_bot_and_its_id_matches_inbound_ids(bot_api):
    sender = build_sender(Settings(telegram_token=TOKEN, telegram_api_base=bot_api.base_url))
    result = sender.send(reply())
    assert bot_api.sent == [{"chat_id": "5550001", "text": reply().text}]
    assert result.provider_id == "5550001:1001"


def test_long_replies_go_in_parts_cut_at_line_breaks(bot_api):
    text = "\n".join(["a" * 3000] * 3)
    build_sender(Settings(telegram_token=TOKEN, telegram_api_base=bot_api.base_url)).send(reply(text))
    assert [len(m["text"]) for m in bot_api.sent] == [3000, 3000, 3000]


def test_split_text_cuts_hard_when_there_is_no_line_break():
    assert [len(p) for p in split_text("x" * 9000)] == [4096, 4096, 808]


def test_blocked_bot_is_a_permanent_failure(bot_api):
    bot_api.blocked_chats.add("5550001")
    with pytest.raises(TransportError) as err:
        build_sender(Settings(telegram_token=TOKEN, telegram_api_base=bot_api.base_url)).send(reply())
    assert err.value.permanent
    assert "blocked" in str(err.value)


def test_unreachable_bot_api_is_temporary():
    sender = build_sender(Settings(telegram_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{free_port()}/bot"))
    with pytest.raises(TransportError) as err:
        sender.send(reply())
    assert not err.value.permanent


def test_unconfigured_telegram_is_refused_plainly():
    with pytest.raises(TransportError, match="not configured"):
        build_sender(Settings())


# --- polling ------------------------------------------------------------------------------


@pytest.fixture
def polling_rt(runtime, bot_api):
    return runtime_with(runtime, telegram_secret=None, telegram_api_base=bot_api.base_url)


def test_polling_is_the_service_when_there_is_no_webhook_secret(runtime, polling_rt):
    assert isinstance(polling_service(polling_rt), TelegramPoller)
    assert polling_service(runtime_with(runtime)) is None  # a secret means webhook mode
    assert polling_service(runtime_with(runtime, telegram_token=None, telegram_secret=None)) is None


def test_poller_stores_messages_greets_start_and_acknowledges_only_after_storing(polling_rt, bot_api):
    bot_api.webhook = {"url": "https://old.example/webhooks/telegram"}
    for name in ("start", "text", "photo_caption", "sticker"):
        bot_api.push(telegram_update(name))
    poller = polling_service(polling_rt)
    poller.start()
    try:
        bot_api.wait_for(lambda: 800000007 in bot_api.offsets())
    finally:
        poller.stop()

    assert bot_api.webhook is None  # polling deleted the webhook first
    assert bot_api.offsets()[0] is None
    assert [m["chat_id"] for m in bot_api.sent] == ["5550002"]
    assert bot_api.sent[0]["text"].startswith("Hello, this is Example Borough Council.")
    with polling_rt.sessions() as session:
        stored = session.scalars(select(Message).order_by(Message.id)).all()
    assert [m.external_id for m in stored] == ["5550001:57", "5550001:58"]
    assert json.loads(polling_rt.blobs.get(stored[0].raw_sha256))["update_id"] == 800000001
    assert not poller._thread.is_alive()


def test_poller_waits_out_a_database_outage_without_losing_the_update(polling_rt, bot_api):
    bot_api.push(telegram_update("text"))
    broken = without_database(polling_rt)
    poller = TelegramPoller(inbound_for(broken))
    poller.start()
    try:
        bot_api.wait_for(lambda: len(bot_api.offsets()) >= 2)
        time.sleep(1.2)  # backoff: the same update is fetched again, never acknowledged
    finally:
        poller.stop()
    assert set(bot_api.offsets()) == {None}
    assert count(polling_rt, Message) == 0

    poller = TelegramPoller(inbound_for(polling_rt))  # the database is back
    poller.start()
    try:
        bot_api.wait_for(lambda: 800000002 in bot_api.offsets())
    finally:
        poller.stop()
    assert count(polling_rt, Message) == 1


def test_stop_returns_promptly_during_a_long_poll(polling_rt, bot_api):
    bot_api.max_wait = 30
    poller = TelegramPoller(inbound_for(polling_rt), poll_timeout=30)
    poller.start()
    bot_api.wait_for(lambda: bot_api.offsets())
    started = time.monotonic()
    poller.stop()
    assert time.monotonic() - started < 5
    assert not poller._thread.is_alive()


# --- webhook registration -----------------------------------------------------------------


def test_set_webhook_registers_the_public_url_with_the_secret(bot_api, monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_TELEGRAM_SECRET", TELEGRAM_SECRET)
    monkeypatch.setenv("TRIAGE_TELEGRAM_API_BASE", bot_api.base_url)
    monkeypatch.setenv("TRIAGE_PUBLIC_BASE_URL", "https://triage.council.example")

    assert cli(["telegram", "set-webhook"]) == 0
    assert bot_api.webhook == {"url": "https://triage.council.example/webhooks/telegram",
                               "secret_token": TELEGRAM_SECRET, "allowed_updates": ["message"]}
    assert "webhook set" in capsys.readouterr().out


def test_set_webhook_without_a_secret_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("TRIAGE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.delenv("TRIAGE_TELEGRAM_SECRET", raising=False)
    assert cli(["telegram", "set-webhook", "--url", "https://x.example/webhooks/telegram"]) == 2
    err = capsys.readouterr().err
    assert "TRIAGE_TELEGRAM_SECRET" in err and len(err.strip().splitlines()) == 1


def test_poll_command_needs_a_token(monkeypatch, capsys):
    monkeypatch.delenv("TRIAGE_TELEGRAM_TOKEN", raising=False)
    assert cli(["telegram", "poll"]) == 2
    assert "TRIAGE_TELEGRAM_TOKEN" in capsys.readouterr().err

