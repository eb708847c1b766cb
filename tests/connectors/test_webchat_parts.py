"""Web chat pieces without a server: message parsing, contact points, session tokens, rate limits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.connectors.channels import count
from triage.connectors.contact_points import find_contact_points, normalise_phone
from triage.connectors.webchat.parse import BadChatMessage, ChatMessageTooLong, parse_chat_message
from triage.connectors.webchat.ratelimit import MemoryRateLimiter, RedisRateLimiter, limiter_for
from triage.connectors.webchat.sessions import open_session, session_for_token, token_hash
from triage.message import Identity
from triage.store.models import ChatSession

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def chat(text: str, client_id: str = "a1b2c3d4e5f6"):
    return parse_chat_message("wc-abc", {"text": text, "client_message_id": client_id}, b"{}", NOW)


def test_chat_message_is_identified_by_session_and_the_widgets_own_id():
    msg = chat("  When is my bin day?  ")
    assert (msg.channel, msg.external_id) == ("webchat", "wc-abc:a1b2c3d4e5f6")
    assert msg.sender == Identity("webchat", "wc-abc")
    assert msg.text == "When is my bin day?"


def test_typed_email_and_mobile_become_contact_points():
    msg = chat("I emailed from Jo.Bloggs@Example.org, or ring 07911 123456 (not 01632 960000).")
    assert msg.contact_points == (Identity("email", "jo.bloggs@example.org"), Identity("phone", "+447911123456"))


def test_5000_characters_fit_and_5001_do_not():
    assert len(chat("x" * 5000).text) == 5000
    with pytest.raises(ChatMessageTooLong):
        chat("x" * 5001)


@pytest.mark.parametrize("payload", [
    {"client_message_id": "a1b2c3d4e5f6"},
    {"text": "   ", "client_message_id": "a1b2c3d4e5f6"},
    {"text": 42, "client_message_id": "a1b2c3d4e5f6"},
    {"text": "hello"},
    {"text": "hello", "client_message_id": "short"},
    {"text": "hello", "client_message_id": "has spaces in it"},
])
def test_missing_or_malformed_fields_are_refused(payload):
    with pytest.raises(BadChatMessage):
        parse_chat_message("wc-abc", payload, b"{}", NOW)


@pytest.mark.parametrize("raw, e164", [("+447911123456", "+447911123456"), ("07911 123456", "+447911123456"),
                                       ("0044 7911 123456", "+447911123456"), ("Vodafone", None)])
def test_phone_numbers_normalise_to_e164(raw, e164):
    assert normalise_phone(raw) == e164


def test_contact_points_are_not_repeated():
    assert len(find_contact_points("a@b.org A@B.org 07911123456 +447911123456")) == 2


def test_sessions_store_only_the_hash_of_their_token(runtime):
    new = open_session(runtime.sessions, "203.0.113.9", NOW)
    with runtime.sessions() as session:
        row = session.scalars(select(ChatSession)).one()
    assert row.token_sha256 == token_hash(new.token) != new.token
    assert new.token not in (row.public_id, row.token_sha256)
    assert session_for_token(runtime.sessions, new.token, NOW, WEEK) == new.public_id
    assert session_for_token(runtime.sessions, new.token + "x", NOW, WEEK) is None
    assert session_for_token(runtime.sessions, new.token, NOW + WEEK + timedelta(seconds=1), WEEK) is None
    assert count(runtime, ChatSession) == 1


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_rate_limit_allows_the_limit_then_says_how_long_to_wait(kind, redis_conn):
    limiter = MemoryRateLimiter() if kind == "memory" else RedisRateLimiter(redis_conn)
    assert [limiter.hit("chat-session:wc-1", 3) for _ in range(3)] == [None, None, None]
    wait = limiter.hit("chat-session:wc-1", 3)
    assert 1 <= wait <= 60
    assert limiter.hit("chat-session:wc-2", 3) is None  # another key has its own count


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_rate_limit_counts_any_sixty_seconds_not_the_clock_minute(kind, redis_conn):
    clock = Clock(1_800_000_058.5)  # a second and a half before a minute turns
    limiter = MemoryRateLimiter(clock) if kind == "memory" else RedisRateLimiter(redis_conn, clock=clock)
    key = f"chat-session:wc-{uuid.uuid4().hex}"
    assert [limiter.hit(key, 3) for _ in range(3)] == [None, None, None]
    clock.now += 3  # the minute has turned; a per-minute counter would start again
    assert limiter.hit(key, 3) == 57
    clock.now += 57  # the first three are now a full minute old
    assert limiter.hit(key, 3) is None
    assert limiter.hit(key, 3) is None
    assert limiter.hit(key, 3) is None
    assert limiter.hit(key, 3) == 60  # the three just let in are the window now


def test_redis_limits_are_shared_between_processes(redis_conn):
    first, second = RedisRateLimiter(redis_conn), RedisRateLimiter(redis_conn)
    assert first.hit("chat-ip:203.0.113.9", 1) is None
    assert second.hit("chat-ip:203.0.113.9", 1) is not None


def test_redis_outage_lets_chat_through(private_redis):
    from redis import Redis

    limiter = RedisRateLimiter(Redis.from_url(private_redis.url, socket_connect_timeout=0.5))
    private_redis.stop()
    assert all(limiter.hit("chat-ip:203.0.113.9", 1) is None for _ in range(3))


def test_limiter_follows_the_queue(runtime):
    assert isinstance(limiter_for(runtime.queue), RedisRateLimiter)

    class InProcess:
        kind = "in-process"

    assert isinstance(limiter_for(InProcess()), MemoryRateLimiter)
