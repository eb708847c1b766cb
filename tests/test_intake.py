"""Intake: durable, idempotent, and nothing lost when Redis or the database is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import drain, make_message
from triage.intake import Intake, IntakeUnavailable
from triage.jobs import QUEUED_GRACE, requeue_stranded, utcnow
from triage.queue import RQJobQueue
from triage.store.blobs import BlobStore
from triage.store.db import make_engine, session_factory
from triage.store.models import AttachmentRow, Case, Event, Message


def count(rt, model, *where) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_accepted_message_is_stored_with_its_raw_payload_and_queued(runtime, intake):
    msg = make_message("Please collect my sofa", subject="Bulky waste")
    accepted = intake.accept(msg)

    assert accepted.created and accepted.queued
    with runtime.sessions() as session:
        row = session.get(Message, accepted.message_id)
        assert row.status == "queued"
        assert row.subject == "Bulky waste"
        assert runtime.blobs.get(row.raw_sha256) == msg.raw
    assert runtime.queue.queues["triage"].job_ids == [f"triage-{accepted.message_id}"]


def test_same_channel_and_external_id_twice_gives_one_message(runtime, intake):
    msg = make_message(external_id="<same@example.org>")
    first = intake.accept(msg)
    second = intake.accept(msg)

    assert second.message_id == first.message_id
    assert not second.created
    assert count(runtime, Message) == 1
    assert runtime.queue.queues["triage"].count == 1


def test_same_external_id_on_another_channel_is_a_different_message(runtime, intake):
    intake.accept(make_message(external_id="42", channel="email"))
    intake.accept(make_message(external_id="42", channel="telegram"))
    assert count(runtime, Message) == 2


def test_attachments_are_stored_once_by_content_hash(runtime, intake):
    from triage.message import Attachment

    photo = Attachment("pothole.jpg", "image/jpeg", data=b"\xff\xd8 jpeg bytes")
    intake.accept(make_message(attachments=(photo,)))
    intake.accept(make_message(attachments=(photo,)))

    with runtime.sessions() as session:
        rows = session.scalars(select(AttachmentRow)).all()
    assert len(rows) == 2
    assert {r.sha256 for r in rows} == {photo.sha256}
    assert runtime.blobs.get(photo.sha256) == photo.data


def test_redis_down_keeps_message_pending_and_sweeper_recovers_it(runtime, private_redis):
    queue = RQJobQueue.from_url(private_redis.url)
    intake = Intake(runtime.sessions, runtime.blobs, queue)
    private_redis.stop()

    accepted = intake.accept(make_message("Street light out on Mill Lane"))

    assert accepted.created and not accepted.queued
    with runtime.sessions() as session:
        assert session.get(Message, accepted.message_id).status == "pending"

    private_redis.start()
    runtime.queue = queue
    assert requeue_stranded(runtime) == 1
    drain(runtime)
    with runtime.sessions() as session:
        assert session.get(Message, accepted.message_id).status == "triaged"
    assert count(runtime, Case) == 1


def test_a_job_lost_between_commit_and_enqueue_is_requeued_once_the_grace_period_is_over(runtime, intake):
    """Intake crashed after its commit, before Redis heard of the job: the row says `queued`, Redis has nothing."""
    accepted = intake.accept(make_message("Dog fouling all along Church Walk"))
    runtime.queue.queues["triage"].empty()

    assert requeue_stranded(runtime) == 0, "a freshly queued message is left to its job"
    assert requeue_stranded(runtime, now=utcnow() + QUEUED_GRACE + timedelta(seconds=1)) == 1
    drain(runtime)
    with runtime.sessions() as session:
        assert session.get(Message, accepted.message_id).status == "triaged"


def test_database_unavailable_raises_the_retryable_error(runtime, tmp_path):
    from tests.helpers import free_port

    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    intake = Intake(session_factory(dead), BlobStore(tmp_path / "blobs"), runtime.queue)

    with pytest.raises(IntakeUnavailable) as err:
        intake.accept(make_message())
    assert err.value.retryable


def test_database_going_away_mid_session_is_retryable_and_loses_nothing(runtime, intake, pg_engine):
    """A real outage: every connection to our database is killed under the intake's pooled sessions."""
    from sqlalchemy import text

    intake.accept(make_message("warm the pool"))
    with pg_engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    msg = make_message("after the outage")
    try:
        accepted = intake.accept(msg)
    except IntakeUnavailable:
        accepted = intake.accept(msg)  # the sender's retry
    with runtime.sessions() as session:
        assert session.get(Message, accepted.message_id).text == "after the outage"


def test_every_accepted_message_has_a_received_event(runtime, intake):
    accepted = intake.accept(make_message())
    assert count(runtime, Event, Event.message_id == accepted.message_id, Event.kind == "message_received") == 1
