"""The triage job: one result per message, however often it runs or dies half way."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select, text

from tests.helpers import drain, kill_tree, make_message
from triage.jobs import flag_sla, requeue_stranded, run_triage, utcnow
from triage.message import Identity
from triage.store.models import Case, Customer, Event, Message


def snapshot(rt) -> dict:
    with rt.sessions() as s:
        return {
            "cases": s.scalar(select(func.count()).select_from(Case)),
            "events": s.scalar(select(func.count()).select_from(Event)),
            "customers": s.scalar(select(func.count()).select_from(Customer)),
            "statuses": sorted(s.scalars(select(Message.status)).all()),
        }


def test_message_becomes_a_case_with_deadlines_for_a_person(runtime, intake):
    accepted = intake.accept(make_message(received_at=utcnow().replace(year=2026, month=12, day=24, hour=16)))
    drain(runtime)

    with runtime.sessions() as s:
        message = s.get(Message, accepted.message_id)
        case = s.get(Case, message.case_id)
        assert message.status == "triaged"
        assert message.action == "queue"
        assert case.reference == f"T-{case.id:06d}"
        assert case.status == "open"
        assert case.processed_by.isoformat() == "2026-12-30"
        assert case.respond_by.isoformat() == "2027-01-05"
        kinds = s.scalars(select(Event.kind).where(Event.message_id == message.id).order_by(Event.id)).all()
    assert kinds[0] == "message_received"
    assert "case_opened" in kinds and kinds[-1] == "message_triaged"


def test_rerunning_a_finished_job_changes_nothing(runtime, intake):
    accepted = intake.accept(make_message())
    drain(runtime)
    before = snapshot(runtime)

    assert run_triage(runtime, accepted.message_id) == "nothing to do"
    assert snapshot(runtime) == before


def test_replies_thread_onto_the_case_by_reference_and_by_in_reply_to(runtime, intake):
    first = intake.accept(make_message("Our bins were missed", external_id="<first@example.org>"))
    drain(runtime)
    by_reference = intake.accept(make_message("Still nothing", subject="Re: your enquiry [Ref: T-000001]",
                                              sender=Identity("email", "other@example.org")))
    by_header = intake.accept(make_message("Any news?", in_reply_to="<first@example.org>",
                                           sender=Identity("email", "third@example.org")))
    drain(runtime)

    with runtime.sessions() as s:
        case_ids = {s.get(Message, m.message_id).case_id for m in (first, by_reference, by_header)}
    assert case_ids == {1}


def test_the_same_resident_is_one_customer_across_messages(runtime, intake):
    sender = Identity("phone", "+447700900123")
    intake.accept(make_message("bin missed", channel="sms", external_id="SM1", sender=sender))
    intake.accept(make_message("still missed", channel="sms", external_id="SM2", sender=sender))
    drain(runtime)
    assert snapshot(runtime)["customers"] == 1


class ExplodingClassifier:
    version = "broken"

    def predict(self, *args, **kwargs):
        raise RuntimeError("model file unreadable")


def test_after_the_last_retry_the_message_is_marked_failed_and_visible(runtime, intake):
    runtime.settings.triage_retries = 2
    runtime.__dict__["classifier"] = ExplodingClassifier()
    accepted = intake.accept(make_message())

    try:
        run_triage(runtime, accepted.message_id)
        raise AssertionError("the first attempt should raise so RQ retries it")
    except RuntimeError:
        pass
    assert run_triage(runtime, accepted.message_id) == "failed"

    with runtime.sessions() as s:
        message = s.get(Message, accepted.message_id)
        assert message.status == "failed"
        assert "model file unreadable" in message.last_error
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.kind == "triage_failed", Event.message_id == message.id)) == 1


def test_a_worker_killed_mid_job_is_retried_and_triages_exactly_once(runtime, intake, settings, pg_engine):
    accepted = intake.accept(make_message("Fly-tipping behind the garages"))
    env = {**os.environ, "TRIAGE_DATABASE_URL": settings.database_url, "TRIAGE_REDIS_URL": settings.redis_url,
           "TRIAGE_DATA_DIR": str(settings.data_dir), "TRIAGE_MODEL_DIR": str(settings.model_dir),
           "TRIAGE_LOG_FORMAT": "text", "TRIAGE_LEASE_SECONDS": str(settings.lease_seconds)}
    with pg_engine.connect() as blocker:
        blocker.execute(text("BEGIN"))
        blocker.execute(text("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE"))  # the job will hang opening the case
        worker = subprocess.Popen([sys.executable, "-m", "triage.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with runtime.sessions() as s:
                    if s.get(Message, accepted.message_id).attempts == 1:
                        break
                time.sleep(0.2)
            else:
                raise AssertionError("the worker never started the job")
            time.sleep(0.5)
            kill_tree(worker.pid)  # the worker and the work horse it forked for the job
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                kill_tree(worker.pid)
        blocker.execute(text("ROLLBACK"))

    with runtime.sessions() as s:
        assert s.get(Message, accepted.message_id).status == "queued"
    # Nothing is lost: once the lease runs out the sweeper puts the job back, and it runs once.
    assert requeue_stranded(runtime, now=utcnow() + timedelta(seconds=settings.lease_seconds + 1)) == 1
    drain(runtime)

    with runtime.sessions() as s:
        message = s.get(Message, accepted.message_id)
        assert message.status == "triaged"
        assert message.attempts == 2
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "message_triaged")) == 1


def test_sla_sweep_flags_cases_at_risk_and_past_deadline(runtime, intake):
    intake.accept(make_message(received_at=utcnow() - timedelta(days=14)))
    intake.accept(make_message(received_at=utcnow(), sender=Identity("email", "new@example.org")))
    drain(runtime)

    assert flag_sla(runtime) >= 1
    with runtime.sessions() as s:
        states = dict(s.execute(select(Case.id, Case.sla_state)).all())
        assert states[1] == "breached"
        assert states[2] in ("ok", "at_risk")
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "sla_breached")) == 1
    assert flag_sla(runtime) == 0  # nothing changed, nothing logged twice
