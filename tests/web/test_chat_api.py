"""The web-chat widget's page and JSON API: sessions, messages, replies, limits, bad input."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.connectors.channels import client_for, count, runtime_with, without_database
from tests.helpers import drain
from triage.config import Settings
from triage.connectors.base import OutboundMessage
from triage.connectors.webchat.transport import build_sender
from triage.store.models import Customer, Identity, LinkSuggestion, Message, Reply


@pytest.fixture
def rt(runtime):
    return runtime_with(runtime, chat_rate_session=5, chat_rate_ip=20)


@pytest.fixture
def client(rt):
    return client_for(rt)


def start(client) -> tuple[str, dict]:
    response = client.post("/chat/api/sessions")
    assert response.status_code == 201
    body = response.json()
    return body["session_id"], {"Authorization": f"Bearer {body['token']}"}


def say(client, auth, text, client_id=None, **extra):
    payload = {"text": text, "client_message_id": client_id or uuid.uuid4().hex, **extra}
    return client.post("/chat/api/messages", json=payload, headers=auth)


def add_reply(rt, public_id, text, status="sent") -> int:
    with rt.sessions.begin() as session:
        reply = Reply(idempotency_key=uuid.uuid4().hex, channel="webchat", recipient=public_id, template="answer",
                      body_text=text, status=status, sent_at=datetime.now(UTC))
        session.add(reply)
        session.flush()
        return reply.id


# --- the page ---------------------------------------------------------------------------------


def test_widget_page_is_labelled_live_and_loads_only_its_own_assets(client):
    response = client.get("/chat/")
    assert response.status_code == 200
    page = response.text
    assert "Chat with Example Borough Council" in page
    assert '<label for="message"' in page
    assert 'aria-live="polite"' in page and 'role="log"' in page
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == ["static/chat.css", "static/chat.js"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def test_only_the_councils_own_site_may_frame_the_widget(runtime):
    framed = client_for(runtime_with(runtime, chat_frame_ancestors="https://www.example-borough.gov.uk"))
    policy = framed.get("/chat/").headers["content-security-policy"]
    assert policy.endswith("frame-ancestors https://www.example-borough.gov.uk")


def test_widget_assets_are_served_with_their_types(client):
    assert client.get("/chat/static/chat.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/chat/static/chat.css").headers["content-type"].startswith("text/css")
    assert client.get("/chat/static/../app.py").status_code == 404
    assert client.get("/chat/static/other.js").status_code == 404


# --- messages ---------------------------------------------------------------------------------


def test_message_is_stored_for_the_session_and_a_retry_stores_it_once(rt, client):
    public_id, auth = start(client)
    for _ in range(2):
        response = say(client, auth, "When is my bin day?", client_id="retry-me-0001")
        assert response.status_code == 202
    with rt.sessions() as session:
        message = session.scalars(select(Message)).one()
    assert (message.channel, message.external_id) == ("webchat", f"{public_id}:retry-me-0001")
    assert (message.sender_kind, message.sender_value) == ("webchat", public_id)
    assert message.status == "queued"


def test_typed_email_of_an_existing_resident_is_a_suggestion_for_staff_never_a_merge(rt, client):
    with rt.sessions.begin() as session:
        resident = Customer(display_name="Jo Bloggs")
        session.add(resident)
        session.flush()
        session.add(Identity(customer_id=resident.id, kind="email", value="jo.bloggs@example.org"))
        existing_id = resident.id
    public_id, auth = start(client)
    assert say(client, auth, "It's Jo, my email is Jo.Bloggs@example.org").status_code == 202
    drain(rt)

    with rt.sessions() as session:
        chat_identity = session.scalars(select(Identity).where(Identity.kind == "webchat")).one()
        [suggestion] = session.scalars(select(LinkSuggestion)).all()
    assert chat_identity.value == public_id
    assert chat_identity.customer_id != existing_id  # not merged
    assert (suggestion.identity_id, suggestion.suggested_customer_id, suggestion.status) == (
        chat_identity.id, existing_id, "pending")


def test_5001_characters_is_413_and_5000_is_fine(rt, client):
    _, auth = start(client)
    assert say(client, auth, "x" * 5001).status_code == 413
    assert say(client, auth, "x" * 5000).status_code == 202
    assert count(rt, Message) == 1


def test_oversized_body_is_413(rt, client):
    _, auth = start(client)
    assert say(client, auth, "hello", padding="x" * 70_000).status_code == 413


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 400),
    (b'"just a string"', "application/json", 400),
    (b'{"text": "hi"}', "application/json", 400),
    (b'{"client_message_id": "abcdefgh1234"}', "application/json", 400),
    (b'{"text": "\xff\xfe", "client_message_id": "abcdefgh1234"}', "application/json", 400),
    (b"text=hello", "application/x-www-form-urlencoded", 415),
    (b'{"text": "hi", "client_message_id": "abcdefgh1234"}', "", 415),
])
def test_bad_input_gets_a_clear_4xx_and_nothing_is_stored(rt, client, body, content_type, status):
    _, auth = start(client)
    response = client.post("/chat/api/messages", content=body, headers={**auth, "Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["detail"]
    assert count(rt, Message) == 0


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"},
                                  {"Authorization": "Bearer not-a-session-token"}])
def test_messages_need_a_valid_session_token(rt, client, auth):
    response = client.post("/chat/api/messages", json={"text": "hi", "client_message_id": "abcdefgh1234"},
                           headers=auth)
    assert response.status_code == 401
    assert client.get("/chat/api/replies", headers=auth).status_code == 401
    assert count(rt, Message) == 0


def test_a_session_left_idle_too_long_no_longer_opens(rt, client):
    from datetime import timedelta

    from sqlalchemy import update

    from triage.store.models import ChatSession

    _, auth = start(client)
    assert say(client, auth, "Is the tip open on Sunday?").status_code == 202
    with rt.sessions.begin() as session:
        session.execute(update(ChatSession).values(
            last_seen_at=datetime.now(UTC) - timedelta(days=rt.settings.chat_session_days, minutes=1)))
    assert client.get("/chat/api/replies", headers=auth).status_code == 401
    assert say(client, auth, "hello?").status_code == 401


def test_each_session_is_rate_limited(rt, client):
    _, auth = start(client)
    statuses = [say(client, auth, f"message {i}").status_code for i in range(6)]
    assert statuses == [202] * 5 + [429]
    refused = say(client, auth, "one more")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    _, other = start(client)
    assert say(client, other, "a different session").status_code == 202
    assert count(rt, Message) == 6


def test_each_address_is_rate_limited_across_sessions(runtime):
    client = client_for(runtime_with(runtime, chat_rate_session=100, chat_rate_ip=4))
    _, first = start(client)
    _, second = start(client)
    assert say(client, first, "one").status_code == 202
    assert say(client, second, "two").status_code == 202
    assert say(client, second, "three").status_code == 429
    assert client.post("/chat/api/sessions").status_code == 429


def test_database_down_is_503_with_retry_after(rt, client):
    _, auth = start(client)
    dead = client_for(without_database(rt))
    response = dead.post("/chat/api/messages", json={"text": "hi", "client_message_id": "abcdefgh1234"},
                         headers=auth)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert dead.post("/chat/api/sessions").status_code == 503


# --- replies ----------------------------------------------------------------------------------


def test_replies_are_fetched_in_order_and_marked_delivered(rt, client):
    public_id, auth = start(client)
    other_id, _ = start(client)
    first = add_reply(rt, public_id, "Thanks. Your reference is T-000001.")
    add_reply(rt, public_id, "not sent yet", status="queued")
    add_reply(rt, other_id, "someone else's reply")
    second = add_reply(rt, public_id, "Bins are collected on Tuesdays.")

    body = client.get("/chat/api/replies", headers=auth).json()
    assert [r["id"] for r in body["replies"]] == [first, second]
    assert body["replies"][0]["text"] == "Thanks. Your reference is T-000001."
    assert body["poll_after_ms"] > 0
    assert client.get(f"/chat/api/replies?after={first}", headers=auth).json()["replies"][0]["id"] == second
    assert client.get(f"/chat/api/replies?after={second}", headers=auth).json()["replies"] == []
    with rt.sessions() as session:
        statuses = {r.id: (r.status, r.delivered_at is not None) for r in session.scalars(select(Reply))}
    assert statuses[first] == ("delivered", True)


def test_replies_cursor_must_be_a_whole_number(client):
    _, auth = start(client)
    assert client.get("/chat/api/replies?after=-1", headers=auth).status_code == 422
    assert client.get("/chat/api/replies?after=abc", headers=auth).status_code == 422


def test_webchat_sender_marks_a_reply_sent_for_the_widget_to_collect():
    sender = build_sender(Settings())
    result = sender.send(OutboundMessage(reply_id=9, channel="webchat", recipient="wc-1", text="Hi"))
    assert (result.status, result.provider_id) == ("sent", "webchat-9")
    assert sender.resend_safe  # a repeat only marks the same row sent again


def test_session_answer_carries_the_token_once_and_the_limit(client):
    body = client.post("/chat/api/sessions").json()
    assert set(body) == {"session_id", "token", "max_chars"}
    assert body["max_chars"] == 5000
    assert len(body["token"]) >= 40
