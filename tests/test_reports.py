"""NI14 and service-standard figures on a small fixed dataset, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from tests.helpers import drain, make_message
from triage import reports
from triage.reports import CaseRow, ContactRow
from triage.store.models import Message

CONTACTS = [
    ContactRow("waste_recycling", "email", "service_failure"),
    ContactRow("waste_recycling", "email", "progress_chasing"),
    ContactRow("waste_recycling", "sms", "none"),
    ContactRow("waste_recycling", "webchat", "self_service_available"),
    ContactRow("council_tax", "email", "none"),
    ContactRow("council_tax", "post", "seeking_clarification"),
    ContactRow("council_tax", "email", None),
]


def test_ni14_counts_by_service_and_reason_and_percent_avoidable_by_channel():
    report = reports.ni14(CONTACTS, date(2026, 4, 1), date(2026, 4, 30))
    lines = {(line.breakdown, line.name): line for line in report.lines}
    waste = lines[("service", "waste_recycling")]
    assert (waste.total, waste.avoidable, waste.percent_avoidable) == (4, 3, 75.0)
    assert waste.counts["service_failure"] == 1 and waste.counts["misdirected"] == 0
    tax = lines[("service", "council_tax")]
    assert (tax.total, tax.avoidable, tax.percent_avoidable) == (2, 1, 50.0)
    email = lines[("channel", "email")]
    assert (email.total, email.avoidable, email.percent_avoidable) == (3, 2, 66.7)
    assert lines[("channel", "sms")].percent_avoidable == 0.0
    overall = lines[("all", "all")]
    assert (overall.total, overall.avoidable, overall.percent_avoidable) == (6, 4, 66.7)
    assert report.unlabelled == 1
    csv = reports.ni14_csv(report).splitlines()
    assert csv[0].startswith("breakdown,name,total,avoidable,percent_avoidable,none,progress_chasing")
    assert "service,waste_recycling,4,3,75.0,1,1,1,0,0,0,1" in csv


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 4, day, hour, tzinfo=UTC)


CASES = [
    # processed on time, answered on the respond-by date: both met
    CaseRow("T-1", "housing", "email", _at(1), date(2026, 4, 3), _at(2), date(2026, 4, 9), _at(9)),
    # processed late; answered by the promised date (the measured one): processing breached, response met
    CaseRow("T-2", "housing", "sms", _at(1), date(2026, 4, 3), _at(7), date(2026, 4, 15), _at(14)),
    # never processed nor answered and both dates past: both breached
    CaseRow("T-3", "parking", "email", _at(1), date(2026, 4, 3), None, date(2026, 4, 9), None),
    # not yet due: pending, counted in neither share
    CaseRow("T-4", "parking", "post", _at(20), date(2026, 4, 22), None, date(2026, 4, 27), None),
    # answered at 23:30 London on the due date (22:30 UTC): met, London dates decide
    CaseRow("T-5", "libraries", "webchat", _at(1), date(2026, 4, 3), _at(3, 22), date(2026, 4, 9), _at(9, 22)),
]


def test_performance_shares_count_met_against_decided_and_list_the_breaches():
    report = reports.performance(CASES, date(2026, 4, 1), date(2026, 4, 30), today=date(2026, 4, 21))
    assert (report.processing.met, report.processing.breached, report.processing.pending) == (2, 2, 1)
    assert report.processing.percent_met == 50.0
    assert (report.response.met, report.response.breached, report.response.pending) == (3, 1, 1)
    assert report.response.percent_met == 75.0
    assert [o.row.reference for o in report.breaches] == ["T-2", "T-3"]
    csv = reports.performance_csv(report).splitlines()
    assert csv[2] == "T-2,housing,sms,2026-04-01,2026-04-03,2026-04-07,breached,2026-04-15,2026-04-14,met"


def test_late_answer_after_midnight_london_is_a_breach():
    late = CaseRow("T-9", None, "email", _at(1), None, None, date(2026, 4, 9), _at(9, 23))  # 00:00 BST on the 10th
    assert reports.performance([late], date(2026, 4, 1), date(2026, 4, 1), date(2026, 4, 30)).response.breached == 1


def test_queries_take_london_dates_and_leave_out_automatic_mail(runtime, intake):
    # 23:30 UTC on 30 April is 00:30 BST on 1 May: it belongs to May
    for external_id, moment in (("a", datetime(2026, 4, 30, 22, 30, tzinfo=UTC)),
                                ("b", datetime(2026, 4, 30, 23, 30, tzinfo=UTC)),
                                ("c", datetime(2026, 5, 2, 9, tzinfo=UTC))):
        intake.accept(make_message(f"message {external_id}", external_id=external_id, received_at=moment))
    drain(runtime, queues=("triage",))
    with runtime.sessions.begin() as session:
        session.execute(update(Message).where(Message.external_id == "c").values(status="recorded"))
    with runtime.sessions() as session:
        april = reports.contact_rows(session, date(2026, 4, 1), date(2026, 4, 30))
        may = reports.contact_rows(session, date(2026, 5, 1), date(2026, 5, 31))
        cases = reports.case_rows(session, date(2026, 5, 1), date(2026, 5, 31))
    assert len(april) == 1 and len(may) == 1
    assert [row.respond_by for row in cases][0] is not None and len(cases) == 2
