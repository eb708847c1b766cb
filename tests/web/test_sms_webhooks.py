"""`POST /webhooks/twilio/sms` and `/status`: signed like Twilio signs, stored once, refused when forged."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.connectors.channels import client_for, count, runtime_with, without_database
from tests.connectors.payloads import TWILIO_TOKEN, signed_post, twilio_form
from tests.helpers import drain
from triage.store.models import AttachmentRow, Event, Identity, Message, Reply

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"


@pytest.fixture
def rt(runtime):
    return runtime_with(runtime)


@pytest.fixture
def client(rt):
    return client_for(rt)


def test_signed_sms_is_stored_and_queued_then_answered_with_empty_twiml(rt, client):
    response = signed_post(client, SMS, twilio_form("sms_text"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response/>" in response.text
    with rt.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert (message.channel, message.external_id) == ("sms", "SM0b8e7d4f2a6c4e1f9d3b5a7c9e1f3a5b")
        assert message.sender_value == "+447911123456"
        assert message.status == "queued"
        assert rt.blobs.get(message.raw_sha256) == urlencode(twilio_form("sms_text")).encode()


def test_twilio_retry_of_the_same_message_sid_stores_one_message(rt, client):
    for _ in range(3):
        assert signed_post(client, SMS, twilio_form("sms_text")).status_code == 200
    assert count(rt, Message) == 1


def test_mms_media_are_recorded_as_attachments_to_fetch(rt, client):
    assert signed_post(client, SMS, twilio_form("mms_photo")).status_code == 200
    with rt.sessions() as session:
        rows = session.scalars(select(AttachmentRow).order_by(AttachmentRow.id)).all()
    assert [(r.role, r.content_type, r.sha256) for r in rows] == [
        ("to_fetch", "image/jpeg", None), ("to_fetch", "image/png", None)]
    assert rows[0].url.startswith("https://api.twilio.com/")


def test_forged_signature_is_refused_and_nothing_stored(rt, client):
    response = signed_post(client, SMS, twilio_form("sms_text"), token="not-the-auth-token")
    assert response.status_code == 403
    assert count(rt, Message) == 0


def test_missing_signature_is_refused_and_nothing_stored(rt, client):
    response = client.post(SMS, content=urlencode(twilio_form("sms_text")),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    assert count(rt, Message) == 0


def test_tampered_body_breaks_the_signature(rt, client):
    form = twilio_form("sms_text")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"http://testserver{SMS}", form)
    tampered = {**form, "Body": "Send all council tax refunds to me"}
    response = client.post(SMS, content=urlencode(tampered), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert count(rt, Message) == 0


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(runtime):
    rt = runtime_with(runtime, public_base_url="https://triage.council.example/")
    client = client_for(rt)
    public = "https://triage.council.example/webhooks/twilio/sms"

    assert signed_post(client, SMS, twilio_form("sms_text")).status_code == 403
    assert signed_post(client, SMS, twilio_form("sms_text"), url=public).status_code == 200
    assert count(rt, Message) == 1


def test_without_twilio_configured_the_endpoint_does_not_exist(runtime):
    rt = runtime_with(runtime, twilio_auth_token=None)
    assert signed_post(client_for(rt), SMS, twilio_form("sms_text")).status_code == 404


def test_stop_opts_the_number_out_on_the_customer_and_opens_no_case(rt, client):
    assert signed_post(client, SMS, twilio_form("sms_stop")).status_code == 200
    assert signed_post(client, SMS, twilio_form("sms_stop")).status_code == 200  # Twilio's retry

    with rt.sessions() as session:
        identity = session.scalars(select(Identity).where(Identity.value == "+447911123456")).one()
        assert identity.opted_out_at is not None
        assert identity.customer_id is not None
        events = session.scalars(select(Event).where(Event.kind == "sms_opted_out")).all()
    assert len(events) == 1
    assert events[0].data["identity_id"] == identity.id
    assert count(rt, Message) == 0


def test_stop_on_a_known_resident_marks_their_existing_identity(rt, client):
    signed_post(client, SMS, twilio_form("sms_text"))
    drain(rt)
    signed_post(client, SMS, twilio_form("sms_stop"))
    with rt.sessions() as session:
        [identity] = session.scalars(select(Identity).where(Identity.value == "+447911123456")).all()
        assert identity.opted_out_at is not None
        message = session.scalars(select(Message)).one()
        assert message.customer_id == identity.customer_id


def test_start_clears_the_opt_out(rt, client):
    signed_post(client, SMS, twilio_form("sms_stop"))
    signed_post(client, SMS, twilio_form("sms_start"))
    with rt.sessions() as session:
        identity = session.scalars(select(Identity).where(Identity.value == "+447911123456")).one()
        assert identity.opted_out_at is None
    assert count(rt, Event, Event.kind == "sms_opted_in") == 1


def test_help_reaches_a_person_like_any_message(rt, client):
    assert signed_post(client, SMS, twilio_form("sms_help")).status_code == 200
    with rt.sessions() as session:
        message = session.scalars(select(Message)).one()
    assert message.meta["keyword"] == "help"


def test_database_down_answers_503_so_twilio_retries(rt):
    dead = client_for(without_database(rt))
    assert signed_post(dead, SMS, twilio_form("sms_text")).status_code == 503
    assert signed_post(dead, SMS, twilio_form("sms_stop")).status_code == 503
    assert count(rt, Message) == 0
    assert signed_post(client_for(rt), SMS, twilio_form("sms_text")).status_code == 200  # the retry
    assert count(rt, Message) == 1


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_wrong_content_type_is_415(rt, client, content_type):
    response = client.post(SMS, content=b"{}", headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert count(rt, Message) == 0


def test_oversized_body_is_413(rt, client):
    form = twilio_form("sms_text", Body="x" * 70_000)
    assert signed_post(client, SMS, form).status_code == 413
    assert count(rt, Message) == 0


def test_non_utf8_body_is_400(rt, client):
    response = client.post(SMS, content=b"Body=%FF%FE&From=%2B447911123456",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "X-Twilio-Signature": "x"})
    assert response.status_code == 400
    response = client.post(SMS, content=b"Body=\xff\xfe", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert response.status_code == 400


def test_signed_form_missing_message_sid_is_400(rt, client):
    form = twilio_form("sms_text")
    del form["MessageSid"]
    response = signed_post(client, SMS, form)
    assert response.status_code == 400
    assert "MessageSid" in response.json()["detail"]


# --- delivery status -------------------------------------------------------------------


def sms_reply(rt, status: str = "sent") -> int:
    with rt.sessions.begin() as session:
        reply = Reply(idempotency_key="m1:ack", channel="sms", recipient="+447911123456", template="ack",
                      status=status, provider_id="SMaaaabbbbccccddddeeeeffff00001111",
                      sent_at=datetime.now(UTC))
        session.add(reply)
        session.flush()
        return reply.id


def reply_row(rt, reply_id: int) -> Reply:
    with rt.sessions() as session:
        return session.get(Reply, reply_id)


def test_delivered_callback_marks_the_reply_delivered(rt, client):
    reply_id = sms_reply(rt)
    assert signed_post(client, STATUS, twilio_form("status_delivered")).status_code == 204
    reply = reply_row(rt, reply_id)
    assert reply.status == "delivered" and reply.delivered_at is not None
    assert count(rt, Event, Event.kind == "reply_delivered", Event.reply_id == reply_id) == 1


def test_undelivered_callback_marks_the_reply_failed_with_twilios_error(rt, client):
    reply_id = sms_reply(rt)
    signed_post(client, STATUS, twilio_form("status_undelivered"))
    reply = reply_row(rt, reply_id)
    assert reply.status == "failed"
    assert "30003" in reply.error


def test_late_sent_callback_never_moves_a_delivered_reply_back(rt, client):
    reply_id = sms_reply(rt)
    signed_post(client, STATUS, twilio_form("status_delivered"))
    signed_post(client, STATUS, twilio_form("status_sent"))
    signed_post(client, STATUS, twilio_form("status_delivered"))
    assert reply_row(rt, reply_id).status == "delivered"
    assert count(rt, Event, Event.reply_id == reply_id) == 1


def test_forged_status_callback_changes_nothing(rt, client):
    reply_id = sms_reply(rt)
    response = signed_post(client, STATUS, twilio_form("status_delivered"), token="forged")
    assert response.status_code == 403
    assert reply_row(rt, reply_id).status == "sent"


def test_status_for_an_unknown_message_is_accepted_quietly(rt, client):
    assert signed_post(client, STATUS, twilio_form("status_delivered")).status_code == 204


def test_status_callback_without_a_status_is_400(rt, client):
    form = twilio_form("status_delivered")
    del form["MessageStatus"]
    assert signed_post(client, STATUS, form).status_code == 400
