"""Casework functions on a real database, without the web: each records who did what."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.helpers import drain, make_message
from triage import casework
from triage.store.db import transaction
from triage.store.models import Case, Event, Reply

NOW = datetime(2026, 4, 14, 9, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def case_id(runtime, intake):
    intake.accept(make_message("Please can I have a new recycling box?",
                               received_at=datetime(2026, 4, 13, 9, tzinfo=UTC)))
    drain(runtime, queues=("triage",))
    with runtime.sessions() as session:
        return session.scalar(select(Case.id))


def test_extend_sets_the_promise_and_is_idempotent_per_date(runtime, case_id):
    for _ in range(2):
        with transaction(runtime.sessions) as session:
            reply_id = casework.extend(session, runtime.council, "staff:alice", case_id, date(2026, 4, 28), NOW,
                                       "england-and-wales")
    with runtime.sessions() as session:
        assert session.get(Case, case_id).measured_respond_by == date(2026, 4, 28)
        assert session.scalars(select(Reply.id).where(Reply.template == "holding_reply")).all() == [reply_id]
        assert "Tuesday 28 April 2026" in session.get(Reply, reply_id).body_text
        events = session.scalars(select(Event).where(Event.kind == "extended")).all()
        assert events[0].actor == "staff:alice" and events[0].data["after"] == "2026-04-28"


@pytest.mark.parametrize("promised", [date(2026, 4, 14), date(2026, 4, 18), date(2026, 5, 4)],
                         ids=["today", "saturday", "early-may-bank-holiday"])
def test_extend_refuses_dates_that_are_not_future_business_days(runtime, case_id, promised):
    with pytest.raises(casework.CaseworkError), transaction(runtime.sessions) as session:
        casework.extend(session, runtime.council, "staff:alice", case_id, promised, NOW, "england-and-wales")


def test_close_refuses_unknown_resolutions_and_closed_cases(runtime, case_id):
    with pytest.raises(casework.CaseworkError, match="not a resolution"), transaction(runtime.sessions) as s:
        casework.close(s, "staff:alice", case_id, "vanished", "", NOW)
    with transaction(runtime.sessions) as session:
        casework.close(session, "staff:alice", case_id, "duplicate", "", NOW)
    with pytest.raises(casework.CaseworkError, match="already closed"), transaction(runtime.sessions) as s:
        casework.close(s, "staff:alice", case_id, "answered", "", NOW)
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert (case.status, case.resolved_at, case.responded_at) == ("closed", NOW, None)


def test_welsh_reply_is_written_in_welsh(runtime, case_id):
    with transaction(runtime.sessions) as session:
        rendered = casework.preview(session, runtime.council, case_id, "acknowledgement", "cy", NOW.date())
    assert "Ebrill" in rendered.text  # April, in the Welsh date of the reply


def test_staff_cannot_text_a_number_that_sent_stop(runtime, intake):
    from triage.message import Identity as Sender
    from triage.store.models import Identity

    intake.accept(make_message("bin missed again", channel="sms", external_id="SM-stop",
                               sender=Sender("phone", "+447700900123")))
    drain(runtime, queues=("triage",))
    with transaction(runtime.sessions) as session:
        session.scalars(select(Identity).where(Identity.value == "+447700900123")).one().opted_out_at = NOW
        case_id = session.scalar(select(Case.id))
    with pytest.raises(casework.CaseworkError, match="opted out"), transaction(runtime.sessions) as session:
        casework.send_template(session, runtime.council, "staff:alice", case_id, "bin_day", "en", "t1", NOW)
