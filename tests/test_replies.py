"""Decisions and replies end to end: real PostgreSQL, Redis and RQ workers, and what a resident receives."""

from __future__ import annotations

import dataclasses
import email
import os
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import drain, free_port, make_message
from triage.classify.prediction import Prediction
from triage.connectors.base import OutboundMessage, SendResult, TransportError
from triage.jobs import requeue_stranded
from triage.message import Identity
from triage.queue import outbound_job
from triage.store.models import Case, Event, Message, Reply
from triage.templates.dates import date_in_words

ROBOT_MAIL = Path(__file__).parent / "fixtures" / "robot_mail"
SURE = {"service": 0.99, "contact_type": 0.99, "avoidable_reason": 0.99, "urgent": 0.99, "language": 0.99}


def prediction(service="waste_recycling", contact_type="request_information",
               avoidable_reason="self_service_available", *, urgent=False, language="en", **extra) -> Prediction:
    return Prediction(service=service, contact_type=contact_type, avoidable_reason=avoidable_reason, urgent=urgent,
                      language=language, confidence=SURE, model_version="test", **extra)


class Classifier:
    """Stands in for the model: labels each message from a table of texts (or one default)."""

    version = "test"

    def __init__(self, default: Prediction, **by_text: Prediction) -> None:
        self.default = default
        self.by_text = by_text

    def predict(self, text: str, *, channel: str, subject: str | None = None) -> Prediction:
        return self.by_text.get(text, self.default)


CRASH_AFTER_SENDING = "crash after sending"


class Recorder:
    """A sender that keeps what the resident would receive; `fail` scripts what each call does first."""

    def __init__(self, channel: str, *, fail=(), resend_safe: bool = False) -> None:
        self.channel = channel
        self.received: list[OutboundMessage] = []
        self.fail = list(fail)
        self.resend_safe = resend_safe

    def send(self, message: OutboundMessage) -> SendResult:
        step = self.fail.pop(0) if self.fail else None
        if isinstance(step, TransportError):
            raise step
        self.received.append(message)
        if step == CRASH_AFTER_SENDING:
            raise RuntimeError("the worker died after the provider accepted the reply")
        return SendResult(provider_id=f"{self.channel}-{message.reply_id}")


def use(rt, classifier: Classifier | None = None, **senders: Recorder) -> dict[str, Recorder]:
    """Give the runtime a classifier and recording senders (every channel records unless given)."""
    rt.__dict__["classifier"] = classifier
    recorders = {channel: Recorder(channel) for channel in ("email", "sms", "telegram", "webchat", "post")}
    recorders.update(senders)
    rt.__dict__["senders"] = recorders
    return recorders


def run_retries(rt) -> None:
    """Make RQ's scheduled retries due now and let a real worker's scheduler run them."""
    from rq import SimpleWorker

    for queue in rt.queue.queues.values():
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            rt.queue.connection.zadd(registry.key, {job_id: 0})
    SimpleWorker(list(rt.queue.queues), connection=rt.queue.connection).work(burst=True, with_scheduler=True)


def replies(rt) -> list[Reply]:
    with rt.sessions() as s:
        return list(s.scalars(select(Reply).order_by(Reply.id)))


def only_case(rt) -> Case:
    with rt.sessions() as s:
        return s.scalars(select(Case)).one()


def events(rt, kind: str) -> list[Event]:
    with rt.sessions() as s:
        return list(s.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


# --- what residents get ----------------------------------------------------------------------


def test_a_confident_bin_day_question_is_answered_once_and_the_case_closed(runtime, intake):
    sent = use(runtime, Classifier(prediction()))
    accepted = intake.accept(make_message("When is my bin day?", subject="Bins", external_id="<q1@example.org>"))
    drain(runtime)

    [answer] = sent["email"].received
    assert answer.recipient == "resident@example.org"
    assert "https://www.council.example/bins" in answer.text and "https://www.council.example/bins" in answer.html
    assert answer.case_reference == "T-000001" and "[Ref: T-000001]" in answer.subject
    assert answer.in_reply_to == "<q1@example.org>", "it sits in the resident's thread"
    case = only_case(runtime)
    assert (case.status, case.resolution) == ("closed", "auto_replied")
    assert case.processed_at and case.responded_at and case.resolved_at
    [reply] = replies(runtime)
    assert (reply.status, reply.template, reply.provider_id) == ("sent", "bin_day", f"email-{reply.id}")
    assert reply.idempotency_key == f"{accepted.message_id}:bin_day"
    with runtime.sessions() as s:
        assert s.get(Message, accepted.message_id).action == "auto_reply"


def test_without_a_model_the_resident_is_told_the_reply_date_in_words(runtime, intake):
    sent = use(runtime, None)
    intake.accept(make_message(received_at=datetime(2026, 12, 24, 16, 0, tzinfo=UTC)))
    drain(runtime)

    [ack] = sent["email"].received
    case = only_case(runtime)
    assert case.status == "open" and case.respond_by.isoformat() == "2027-01-05"
    assert "We will reply by Tuesday 5 January 2027." in ack.text
    assert f"by {date_in_words(case.respond_by, 'en')}" in ack.text
    assert "T-000001" in ack.text
    assert events(runtime, "queued_for_person")[0].data["reasons"] == ["no_classifier"]


def test_a_welsh_question_is_answered_in_welsh(runtime, intake):
    sent = use(runtime, Classifier(prediction("parking", "payment", language="cy")))
    intake.accept(make_message("Sut ydw i'n talu fy nirwy parcio?"))
    drain(runtime)

    [answer] = sent["email"].received
    assert answer.language == "cy"
    assert "Gallwch dalu Hysbysiad Tâl Cosb" in answer.text and "[Cyf: T-000001]" in answer.subject


def test_an_urgent_message_gets_help_now_goes_to_the_top_and_alerts_the_duty_team(runtime, intake):
    runtime.settings.duty_email = "duty@council.example"
    sent = use(runtime, Classifier(prediction("housing", "request_service", "none", urgent=True,
                                              urgent_reasons=("nowhere_to_sleep",))))
    intake.accept(make_message("We have been evicted and have nowhere to sleep tonight",
                               sender=Identity("phone", "+447700900123"), channel="sms", external_id="SM1"))
    drain(runtime)

    [help_now] = sent["sms"].received
    assert help_now.recipient == "+447700900123"
    assert "999" in help_now.text and "0300 123 4999" in help_now.text and "0300 123 4003" in help_now.text
    [alert] = sent["email"].received
    assert alert.recipient == "duty@council.example"
    assert alert.subject.startswith("URGENT T-000001") and "nowhere to sleep tonight" in alert.text
    assert "nowhere_to_sleep" in alert.text
    case = only_case(runtime)
    assert (case.status, case.urgent, case.priority) == ("open", True, 0)


def test_an_urgent_message_with_no_duty_address_configured_is_logged_for_staff(runtime, intake):
    sent = use(runtime, Classifier(prediction("adult_social_care", "report_issue", "none", urgent=True)))
    intake.accept(make_message("My neighbour has fallen and cannot get up"))
    drain(runtime)

    assert [m.recipient for m in sent["email"].received] == ["resident@example.org"]
    assert len(events(runtime, "duty_alert_not_configured")) == 1


def test_a_message_in_another_language_is_flagged_for_interpretation(runtime, intake):
    sent = use(runtime, Classifier(prediction(language="other")))
    intake.accept(make_message("Kiedy jest odbiór śmieci?"))
    drain(runtime)

    [ack] = sent["email"].received
    assert ack.language == "en" and "translated" in ack.text
    assert only_case(runtime).needs_interpretation


def test_a_second_message_on_an_open_case_is_acknowledged_not_closed(runtime, intake):
    sent = use(runtime, Classifier(prediction(), **{
        "My bin was missed again": prediction("waste_recycling", "report_issue", "service_failure")}))
    intake.accept(make_message("My bin was missed again"))
    drain(runtime)
    intake.accept(make_message("When is my bin day?"))
    drain(runtime)

    assert [m.meta["template"] for m in sent["email"].received] == ["acknowledgement", "acknowledgement"]
    case = only_case(runtime)
    assert case.status == "open" and case.resolution is None
    assert events(runtime, "queued_for_person")[1].data["reasons"] == ["open_case"]


# --- channels -----------------------------------------------------------------------------------


def letter(*points: Identity):
    return make_message("Please tell me my bin day. 12 Mill Lane", channel="post", external_id="scan-1",
                        sender=Identity("postal", "12 Mill Lane\nExampleton\nEX1 2BB"), contact_points=points)


def test_a_letter_that_gives_an_email_address_is_answered_by_email(runtime, intake):
    sent = use(runtime, Classifier(prediction()))
    intake.accept(letter(Identity("phone", "+447700900456"), Identity("email", "writer@example.org")))
    drain(runtime)

    assert [m.recipient for m in sent["email"].received] == ["writer@example.org"]
    assert sent["post"].received == [] and sent["sms"].received == []
    [changed] = events(runtime, "reply_channel_changed")
    assert (changed.data["channel_from"], changed.data["channel_to"]) == ("post", "email")


def test_a_letter_that_gives_a_mobile_number_is_answered_by_sms(runtime, intake):
    sent = use(runtime, Classifier(prediction()))
    intake.accept(letter(Identity("phone", "+441632960001"), Identity("phone", "+447700900456")))
    drain(runtime)

    [text] = sent["sms"].received
    assert text.recipient == "+447700900456" and "Ref T-000001" in text.text


def test_a_letter_with_no_other_contact_gets_a_letter(runtime, intake):
    sent = use(runtime, Classifier(prediction()))
    intake.accept(letter(Identity("phone", "+441632960001")))
    drain(runtime)

    [post] = sent["post"].received
    assert post.recipient.startswith("12 Mill Lane")
    blocks = post.meta["letter"]
    assert blocks["salutation"] == "Dear resident," and blocks["reference"] == "T-000001"
    assert any("https://www.council.example/bins" in p for p in blocks["paragraphs"])
    assert events(runtime, "reply_channel_changed") == []


# --- nothing automatic ------------------------------------------------------------------------


def test_an_opted_out_number_gets_nothing_automatic(runtime, intake):
    from triage.store.db import transaction
    from triage.store.records import link_identity

    with transaction(runtime.sessions) as s:
        link_identity(s, "phone", "+447700900123").opted_out_at = datetime.now(UTC)
    sent = use(runtime, Classifier(prediction()))
    intake.accept(make_message("bin day?", channel="sms", external_id="SM9",
                               sender=Identity("phone", "+447700900123")))
    drain(runtime)

    assert sent["sms"].received == []
    [reply] = replies(runtime)
    assert (reply.status, reply.error) == ("suppressed", "opted out of automatic messages")
    assert only_case(runtime).status == "open", "a person still deals with it"


def test_at_most_three_automatic_replies_an_hour_to_one_sender(runtime, intake):
    sent = use(runtime, Classifier(prediction()))
    for n in range(5):
        intake.accept(make_message(f"bin day? ({n})", external_id=f"<rate{n}@example.org>"))
        drain(runtime)

    assert len(sent["email"].received) == 3
    assert [r.status for r in replies(runtime)] == ["sent", "sent", "sent", "suppressed", "suppressed"]
    other = intake.accept(make_message("bin day?", sender=Identity("email", "neighbour@example.org")))
    drain(runtime)
    assert sent["email"].received[-1].recipient == "neighbour@example.org", "the limit is per sender"
    assert other.created


SUBJECT_ONLY_ROBOT = "sisimai-rfc3834-03.eml"
"""An auto-reply that says so only in its subject ("Auto reply: ..."): no header to go by."""


def robot_mail() -> list[Path]:
    return sorted(ROBOT_MAIL.glob("*.eml"))


@pytest.mark.parametrize("path", robot_mail(), ids=lambda p: p.name)
def test_real_auto_replies_and_bounces_never_get_an_automatic_reply(runtime, intake, path):
    parse = pytest.importorskip("triage.connectors.email.parse")
    sent = use(runtime, Classifier(prediction()))
    intake.accept(parse.parse_email(path.read_bytes(), max_attachment_bytes=10_000_000))
    drain(runtime)

    assert sent["email"].received == []


@pytest.mark.parametrize("path", [p for p in robot_mail() if p.name != SUBJECT_ONLY_ROBOT], ids=lambda p: p.name)
def test_robot_headers_alone_stop_the_reply_even_if_the_robot_was_not_recognised(runtime, intake, path):
    parse = pytest.importorskip("triage.connectors.email.parse")
    parsed = parse.parse_email(path.read_bytes(), max_attachment_bytes=10_000_000)
    sent = use(runtime, Classifier(prediction()))
    intake.accept(dataclasses.replace(parsed, automatic=None))
    drain(runtime)

    assert sent["email"].received == []
    [reply] = replies(runtime)
    assert reply.status == "suppressed"


def test_a_robot_that_looks_human_is_stopped_by_the_rate_limit(runtime, intake):
    parse = pytest.importorskip("triage.connectors.email.parse")
    raw = (ROBOT_MAIL / SUBJECT_ONLY_ROBOT).read_bytes()
    sent = use(runtime, Classifier(prediction()))
    for n in range(6):
        looks_human = dataclasses.replace(parse.parse_email(raw, max_attachment_bytes=10_000_000), automatic=None,
                                          external_id=f"<loop{n}@apple.example.com>")
        intake.accept(looks_human)
        drain(runtime)

    assert len(sent["email"].received) == 3


# --- sending at most once --------------------------------------------------------------------


def answered_once(runtime, intake, recorder: Recorder) -> Reply:
    use(runtime, Classifier(prediction()), email=recorder)
    intake.accept(make_message("When is my bin day?"))
    drain(runtime)
    [reply] = replies(runtime)
    return reply


def test_running_the_send_job_again_sends_nothing_more(runtime, intake):
    recorder = Recorder("email")
    reply = answered_once(runtime, intake, recorder)

    runtime.queue.enqueue(outbound_job(reply.id), force=True)
    drain(runtime)
    assert len(recorder.received) == 1
    assert replies(runtime)[0].status == "sent"


def test_a_temporary_failure_is_retried_by_rq_and_sent_once(runtime, intake):
    recorder = Recorder("email", fail=[TransportError("relay busy")])
    reply = answered_once(runtime, intake, recorder)
    assert (reply.status, reply.error) == ("queued", "relay busy")
    assert recorder.received == []

    run_retries(runtime)
    [reply] = replies(runtime)
    assert (reply.status, reply.attempts, reply.error) == ("sent", 2, None)
    assert len(recorder.received) == 1


def test_a_permanent_failure_is_visible_to_staff_and_never_retried(runtime, intake):
    recorder = Recorder("email", fail=[TransportError("550 no such user", permanent=True)])
    reply = answered_once(runtime, intake, recorder)
    run_retries(runtime)

    assert (reply.status, reply.error) == ("failed", "550 no such user")
    assert replies(runtime)[0].attempts == 1
    assert len(events(runtime, "reply_failed")) == 1


def test_a_worker_dying_after_the_provider_took_the_reply_never_sends_it_twice(runtime, intake):
    recorder = Recorder("email", fail=[CRASH_AFTER_SENDING])
    reply = answered_once(runtime, intake, recorder)
    assert reply.status == "sending"

    run_retries(runtime)
    [reply] = replies(runtime)
    assert reply.status == "unknown" and "check" in reply.error
    assert len(recorder.received) == 1, "the resident got it once; staff are asked to check"
    assert len(events(runtime, "reply_outcome_unknown")) == 1


def test_a_sender_whose_provider_dedupes_is_resent_with_the_same_key(runtime, intake):
    recorder = Recorder("email", fail=[CRASH_AFTER_SENDING], resend_safe=True)
    answered_once(runtime, intake, recorder)
    run_retries(runtime)

    [reply] = replies(runtime)
    assert reply.status == "sent"
    first, second = recorder.received
    assert first.meta["idempotency_key"] == second.meta["idempotency_key"] == reply.idempotency_key
    assert first.reply_id == second.reply_id


def test_the_sweeper_finishes_a_reply_whose_worker_died_mid_send(runtime, intake, settings):
    recorder = Recorder("email", fail=[CRASH_AFTER_SENDING])
    reply = answered_once(runtime, intake, recorder)
    runtime.queue.connection.flushdb()  # the retry is lost with the dead worker

    later = datetime.now(UTC) + timedelta(seconds=settings.lease_seconds + 1)
    assert requeue_stranded(runtime, now=later) == 1
    drain(runtime)
    assert replies(runtime)[0].status == "unknown"
    assert len(recorder.received) == 1
    assert reply.id == replies(runtime)[0].id


def test_a_channel_without_a_configured_sender_keeps_its_replies_queued(runtime, intake):
    use(runtime, Classifier(prediction()))
    del runtime.__dict__["senders"]  # the real registry: Twilio is not configured in the test settings
    intake.accept(make_message("bin day?", channel="sms", external_id="SM5", sender=Identity("phone", "+447700900999")))
    drain(runtime)

    [reply] = replies(runtime)
    assert reply.status == "queued" and "not configured" in reply.error
    assert requeue_stranded(runtime) == 0, "its RQ retry is already scheduled"


def test_a_channel_with_no_sender_installed_is_a_temporary_error(settings, monkeypatch):
    from triage.connectors import registry

    monkeypatch.setitem(registry.FACTORIES, "post", "triage.connectors.pigeon.transport:build_sender")
    with pytest.raises(TransportError, match="no sender is installed for post") as err:
        registry.Senders(settings)["post"]
    assert not err.value.permanent


# --- a real SMTP server and a real worker process that dies -------------------------------------


@pytest.fixture
def smtp_capture():
    """A real SMTP server on localhost that keeps every message it is given."""
    from aiosmtpd.controller import Controller

    class Capture:
        def __init__(self) -> None:
            self.messages: list[email.message.EmailMessage] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    handler = Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


def test_an_email_answer_reaches_a_real_smtp_server_once(runtime, intake, smtp_capture):
    pytest.importorskip("triage.connectors.email.transport")
    captured, port = smtp_capture
    runtime.settings.outbound_smtp_url = f"smtp://127.0.0.1:{port}"
    runtime.__dict__["classifier"] = Classifier(prediction("libraries", "request_service", "none"))
    accepted = intake.accept(make_message("Can you renew my books please", external_id="<lib@example.org>"))
    drain(runtime)
    [reply] = replies(runtime)
    runtime.queue.enqueue(outbound_job(reply.id), force=True)
    drain(runtime)

    [mail] = captured.messages
    assert mail["To"] == "resident@example.org"
    assert mail["Subject"] == "Renewing your library items [Ref: T-000001]"
    assert mail["In-Reply-To"] == "<lib@example.org>"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert "https://www.council.example/renew" in mail.get_body(("plain",)).get_content()
    assert '<a href="https://www.council.example/renew">' in mail.get_body(("html",)).get_content()
    [reply] = replies(runtime)
    assert (reply.status, reply.provider_id) == ("sent", mail["Message-ID"])
    assert accepted.created


def test_a_worker_process_killed_after_smtp_accepted_the_reply_does_not_send_it_twice(runtime, intake,
                                                                                      smtp_capture):
    """RQ's forking worker: the work horse dies the moment the relay has the mail; RQ retries the job."""
    transport = pytest.importorskip("triage.connectors.email.transport")
    from rq import Worker

    captured, port = smtp_capture
    runtime.settings.outbound_smtp_url = f"smtp://127.0.0.1:{port}"

    class DiesAfterSending(transport.EmailSender):
        def send(self, message):
            result = super().send(message)
            os._exit(1)
            return result

    runtime.__dict__["classifier"] = Classifier(prediction())
    runtime.__dict__["senders"] = {"email": DiesAfterSending(transport.Relay("127.0.0.1", port), "council@example.org")}
    intake.accept(make_message("When is my bin day?"))
    drain(runtime, queues=("triage",))
    Worker(["outbound"], connection=runtime.queue.connection).work(burst=True)
    assert replies(runtime)[0].status == "sending"

    runtime.__dict__["senders"] = {"email": transport.EmailSender(transport.Relay("127.0.0.1", port),
                                                                  "council@example.org")}
    run_retries(runtime)
    assert len(captured.messages) == 1
    assert replies(runtime)[0].status == "unknown"
