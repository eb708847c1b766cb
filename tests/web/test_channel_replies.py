"""From webhook to reply on the same channel, through the real triage and outbound jobs.

Inbound SMS and Telegram messages are triaged by a real RQ worker; the
acknowledgement goes out through the real twilio client and python-telegram-bot
to local fake APIs, and Twilio's status callback marks it delivered.
"""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import select

from tests.connectors.channels import client_for, runtime_with
from tests.connectors.fake_telegram import FakeBotApi
from tests.connectors.fake_twilio import FakeTwilio
from tests.connectors.payloads import TWILIO_SID, TWILIO_TOKEN, signed_post, telegram_update, twilio_form
from tests.helpers import drain
from triage import jobs
from triage.store.models import Reply

if importlib.util.find_spec("triage.decide") is None or not hasattr(jobs, "send_reply"):
    pytest.skip("the decision step (triage/decide.py and jobs.send_reply) has not landed: nothing replies yet",
                allow_module_level=True)

COMPLAINT = "I want to make a formal complaint about how my housing repair was handled."
PUBLIC = "https://triage.council.example"


@pytest.fixture
def twilio():
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
def bot_api():
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def rt(runtime, twilio, bot_api):
    return runtime_with(runtime, twilio_api_base=twilio.base_url, telegram_api_base=bot_api.base_url,
                        public_base_url=PUBLIC)


def twilio_post(client, path: str, form: dict[str, str]):
    """Signed over the public URL, as Twilio signs when the service sits behind a proxy."""
    response = signed_post(client, path, form, url=PUBLIC + path)
    assert response.status_code in (200, 204), response.text
    return response


def replies(rt) -> list[Reply]:
    with rt.sessions() as session:
        return session.scalars(select(Reply).order_by(Reply.id)).all()


def test_sms_is_acknowledged_by_sms_and_the_status_callback_marks_it_delivered(rt, twilio):
    client = client_for(rt)
    twilio_post(client, "/webhooks/twilio/sms", twilio_form("sms_text", Body=COMPLAINT))
    drain(rt)

    [reply] = replies(rt)
    [sent] = twilio.requests
    assert (reply.channel, reply.recipient, reply.status) == ("sms", "+447911123456", "sent")
    assert sent["To"] == "+447911123456" and sent["Body"] == reply.body_text
    assert sent["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status"

    callback = twilio_form("status_delivered", MessageSid=reply.provider_id, SmsSid=reply.provider_id)
    twilio_post(client, "/webhooks/twilio/status", callback)
    assert replies(rt)[0].status == "delivered"


def test_opted_out_number_gets_no_automatic_sms(rt, twilio):
    client = client_for(rt)
    twilio_post(client, "/webhooks/twilio/sms", twilio_form("sms_stop"))
    twilio_post(client, "/webhooks/twilio/sms", twilio_form("sms_text", Body=COMPLAINT))
    drain(rt)

    assert twilio.requests == []
    assert [r.status for r in replies(rt)] == ["suppressed"]


def test_telegram_message_is_acknowledged_with_the_bot(rt, bot_api):
    update = telegram_update("text")
    update["message"]["text"] = COMPLAINT
    response = client_for(rt).post("/webhooks/telegram", json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": rt.settings.telegram_secret})
    assert response.status_code == 200
    drain(rt)

    [reply] = replies(rt)
    assert bot_api.sent == [{"chat_id": "5550001", "text": reply.body_text}]
    assert (reply.status, reply.provider_id) == ("sent", "5550001:1001")
