"""The media job: photos residents sent by MMS or Telegram end in the blob store, once, after triage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import select
from telegram import Update

from tests.connectors.channels import runtime_with
from tests.connectors.fake_telegram import FakeBotApi
from tests.connectors.fake_twilio import FakeTwilio
from tests.connectors.payloads import TWILIO_SID, TWILIO_TOKEN, telegram_update, twilio_form
from tests.helpers import drain, free_port
from triage.connectors.base import TransportError
from triage.connectors.sms.parse import parse_sms
from triage.connectors.telegram.parse import parse_update
from triage.jobs import QUEUED_GRACE, requeue_stranded, run_fetch_media, run_triage, utcnow
from triage.queue import RQJobQueue
from triage.store.models import AttachmentRow, Event, Message

JPEG = b"\xff\xd8\xff\xe0" + b"pothole outside number 12" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"a second angle" * 40


@pytest.fixture
def twilio():
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
def rt(runtime, twilio):
    return runtime_with(runtime, twilio_api_base=twilio.base_url)


def take_mms(rt, twilio, *urls: str) -> int:
    """An MMS with these media URLs, through the parser and intake exactly as the webhook does it."""
    form = twilio_form("mms_photo", NumMedia=str(len(urls)), **{f"MediaUrl{i}": url for i, url in enumerate(urls)})
    return rt.intake.accept(parse_sms(form, urlencode(form).encode(), datetime.now(UTC))).message_id


def rows(rt, message_id: int) -> list[AttachmentRow]:
    with rt.sessions() as session:
        return list(session.scalars(select(AttachmentRow).where(AttachmentRow.message_id == message_id)
                                    .order_by(AttachmentRow.id)))


def events(rt, kind: str) -> list[Event]:
    with rt.sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def status(rt, message_id: int) -> str:
    with rt.sessions() as session:
        return session.get(Message, message_id).status


def test_mms_photos_are_stored_after_triage_and_a_rerun_changes_nothing(rt, twilio):
    message_id = take_mms(rt, twilio, twilio.add_media("ME1", JPEG, "image/jpeg"),
                          twilio.add_media("ME2", PNG, "image/png"))
    drain(rt)

    photo, second = rows(rt, message_id)
    assert (photo.role, photo.sha256, photo.size) == ("attachment", hashlib.sha256(JPEG).hexdigest(), len(JPEG))
    assert (second.role, second.content_type) == ("attachment", "image/png")
    assert rt.blobs.get(photo.sha256) == JPEG and rt.blobs.get(second.sha256) == PNG
    fetched = events(rt, "attachment_fetched")
    assert [e.data["attachment_id"] for e in fetched] == [photo.id, second.id]
    assert fetched[0].case_id is not None and status(rt, message_id) == "triaged"

    requests = len(twilio.media_requests)
    assert run_fetch_media(rt, message_id) == "nothing to do"
    assert len(twilio.media_requests) == requests and len(events(rt, "attachment_fetched")) == 2
    assert rows(rt, message_id)[0].sha256 == photo.sha256


def test_media_that_can_never_be_fetched_are_marked_and_triage_completes(rt, twilio):
    message_id = take_mms(rt, twilio, twilio.media_url("ME404"), twilio.add_media("ME2", PNG, "image/png"))
    drain(rt)

    missing, present = rows(rt, message_id)
    assert (missing.role, missing.sha256) == ("fetch_failed", None)
    assert present.role == "attachment"
    [failed] = events(rt, "attachment_fetch_failed")
    assert failed.data["attachment_id"] == missing.id and "404" in failed.data["error"]
    assert status(rt, message_id) == "triaged"


def test_temporary_failure_is_raised_for_a_retry_which_fetches_what_is_missing(rt, twilio):
    message_id = take_mms(rt, twilio, twilio.add_media("ME1", JPEG))
    twilio.media_failures.append(503)
    drain(rt)
    assert rows(rt, message_id)[0].role == "to_fetch" and status(rt, message_id) == "triaged"
    assert Job.fetch(f"media-{message_id}", connection=rt.queue.connection).get_status() == JobStatus.SCHEDULED
    twilio.media_failures.append(503)
    with pytest.raises(TransportError, match="503"):
        run_fetch_media(rt, message_id)
    assert rows(rt, message_id)[0].role == "to_fetch"
    run_fetch_media(rt, message_id)
    assert rows(rt, message_id)[0].sha256 == hashlib.sha256(JPEG).hexdigest()


def test_queue_down_after_triage_leaves_the_media_for_the_sweeper_and_triage_stands(rt, twilio):
    message_id = take_mms(rt, twilio, twilio.add_media("ME1", JPEG))
    rt.queue.queues["triage"].empty()  # its triage job runs below, by hand, while Redis is "down"
    down = replace(rt, queue=RQJobQueue.from_url(f"redis://127.0.0.1:{free_port()}/0"))
    assert run_triage(down, message_id) == "queue"
    assert status(rt, message_id) == "triaged" and rows(rt, message_id)[0].role == "to_fetch"

    requeue_stranded(rt)  # the acknowledgement goes; the media job may still be on its way
    assert not rt.queue.connection.exists(f"rq:job:media-{message_id}")
    requeue_stranded(rt, now=utcnow() + QUEUED_GRACE + timedelta(seconds=1))
    assert Job.fetch(f"media-{message_id}", connection=rt.queue.connection).get_status() == JobStatus.QUEUED
    drain(rt)
    assert rows(rt, message_id)[0].sha256 == hashlib.sha256(JPEG).hexdigest()


def test_telegram_photo_is_fetched_after_triage(runtime):
    with FakeBotApi() as bot_api:
        rt = runtime_with(runtime, telegram_api_base=bot_api.base_url)
        bot_api.add_file("AgACAgQAAxkBAAIBlarge", JPEG, "photos/file_3.jpg")
        document = telegram_update("photo_caption")
        update = Update.de_json(document, None)
        message_id = rt.intake.accept(parse_update(update, json.dumps(document).encode())).message_id
        drain(rt)
    [photo] = rows(rt, message_id)
    assert (photo.role, photo.content_type, rt.blobs.get(photo.sha256)) == ("attachment", "image/jpeg", JPEG)
