"""The case page's actions through a signed-in browser session, each checked by what it visibly changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from tests.web.staff_support import outbound_job_ids, post_form, queued_case, signed_in
from triage.deadlines import add_business_days, london_date
from triage.message import Identity as SenderIdentity
from triage.store.models import Case, Event, Identity, LinkSuggestion, Message, Reply, TrainingSample
from triage.templates.dates import date_in_words


def test_queue_lists_urgent_first_then_by_the_measured_date(runtime, intake):
    ids = [queued_case(runtime, intake, f"message {n}", sender=SenderIdentity("email", f"r{n}@example.org")).id
           for n in range(3)]
    with runtime.sessions.begin() as session:
        session.execute(update(Case).where(Case.id == ids[0]).values(respond_by=date(2030, 1, 10)))
        session.execute(update(Case).where(Case.id == ids[1]).values(respond_by=date(2030, 1, 20),
                                                                     promised_by=date(2030, 1, 8)))
        session.execute(update(Case).where(Case.id == ids[2]).values(respond_by=date(2030, 1, 30), urgent=True,
                                                                     priority=0))
    page = signed_in(runtime).get("/staff/").text
    order = [page.index(f'href="/staff/cases/{case_id}"') for case_id in (ids[2], ids[1], ids[0])]
    assert order == sorted(order)
    assert "URGENT" in page and "(promised)" in page


def test_a_message_nobody_can_read_yet_comes_straight_after_the_urgent_ones(runtime, intake):
    ids = [queued_case(runtime, intake, f"message {n}", sender=SenderIdentity("email", f"r{n}@example.org")).id
           for n in range(3)]
    with runtime.sessions.begin() as session:
        session.execute(update(Case).where(Case.id == ids[0]).values(respond_by=date(2030, 1, 10)))
        session.execute(update(Case).where(Case.id == ids[1]).values(respond_by=date(2030, 1, 30),
                                                                     needs_interpretation=True))
        session.execute(update(Case).where(Case.id == ids[2]).values(respond_by=date(2030, 1, 31), urgent=True,
                                                                     priority=0))
    page = signed_in(runtime).get("/staff/").text
    order = [page.index(f'href="/staff/cases/{case_id}"') for case_id in (ids[2], ids[1], ids[0])]
    assert order == sorted(order)


def test_queue_filters_by_channel_and_assignee(runtime, intake):
    email = queued_case(runtime, intake, "by email")
    sms = queued_case(runtime, intake, "by text", channel="sms", external_id="SM1",
                      sender=SenderIdentity("phone", "+447700900123"))
    client = signed_in(runtime)
    page = client.get("/staff/?channel=sms").text
    assert f"/staff/cases/{sms.id}" in page and f"/staff/cases/{email.id}\"" not in page
    post_form(client, f"/staff/cases/{email.id}", f"/staff/cases/{email.id}/assign", {})
    mine = client.get("/staff/?assignee=alice").text
    assert f"/staff/cases/{email.id}\"" in mine and f"/staff/cases/{sms.id}\"" not in mine


def test_case_page_shows_the_message_deadlines_and_timeline(runtime, intake):
    case = queued_case(runtime, intake, "Fly-tipping behind the shops on Mill Lane.", subject="Rubbish dumped")
    page = signed_in(runtime).get(f"/staff/cases/{case.id}").text
    assert "Rubbish dumped" in page and "Fly-tipping behind the shops on Mill Lane." in page
    assert case.processed_by.isoformat() in page and case.respond_by.isoformat() in page
    assert "acknowledgement" in page and "queued_for_person" in page


def test_reply_from_template_previews_then_sends_as_the_member_of_staff(runtime, intake):
    case = queued_case(runtime, intake)
    client = signed_in(runtime)
    form = {"template": "bin_day", "language": "en", "token": "t-1"}
    preview = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/reply", form)
    assert preview.status_code == 200 and "Send this reply" in preview.text
    with runtime.sessions() as session:
        assert session.scalar(select(Reply).where(Reply.template == "bin_day")) is None  # a preview stores nothing
    sent = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/reply", {**form, "step": "send"})
    assert "Reply queued for sending." in sent.text
    post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/reply", {**form, "step": "send"})
    with runtime.sessions() as session:
        replies = session.scalars(select(Reply).where(Reply.template == "bin_day")).all()
        assert len(replies) == 1  # the same form sent twice is one reply
        assert (replies[0].created_by, replies[0].automatic, replies[0].status) == ("staff:alice", False, "queued")
        assert session.get(Case, case.id).responded_at is not None
    assert f"outbound-{replies[0].id}" in outbound_job_ids(runtime)


def test_holding_reply_moves_the_measured_date_and_tells_the_resident_in_words(runtime, intake):
    case = queued_case(runtime, intake)
    promised = add_business_days(london_date(datetime.now(UTC)), 8)
    client = signed_in(runtime)
    response = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/extend",
                         {"promised_by": promised.isoformat()})
    assert response.status_code == 200 and "Holding reply queued" in response.text
    with runtime.sessions() as session:
        updated = session.get(Case, case.id)
        assert updated.promised_by == promised and updated.measured_respond_by == promised
        reply = session.scalars(select(Reply).where(Reply.template == "holding_reply")).one()
    assert date_in_words(promised, "en") in reply.body_text
    assert f"outbound-{reply.id}" in outbound_job_ids(runtime)
    assert client.get("/staff/").text.count("(promised)") == 1


def test_holding_reply_refuses_a_date_that_is_not_a_future_business_day(runtime, intake):
    case = queued_case(runtime, intake)
    today = london_date(datetime.now(UTC))
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    client = signed_in(runtime)
    for bad in (today, saturday):
        response = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/extend",
                             {"promised_by": bad.isoformat()})
        assert response.status_code == 400 and "business day after today" in response.text


def test_pass_to_back_office_marks_it_processed_and_waiting(runtime, intake):
    case = queued_case(runtime, intake)
    client = signed_in(runtime)
    post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/pass", {"team": "waste_recycling"})
    with runtime.sessions() as session:
        updated = session.get(Case, case.id)
        assert updated.processed_at is not None and updated.status == "waiting"
        reply = session.scalars(select(Reply).where(Reply.template == "passed_to_service")).one()
        assert "waste and recycling" in reply.body_text
        assert session.scalars(select(Event.kind).where(Event.case_id == case.id)).all()[-1] == "passed_to_service"


def test_urgent_case_cannot_be_closed_without_a_note(runtime, intake):
    case = queued_case(runtime, intake)
    with runtime.sessions.begin() as session:
        session.execute(update(Case).where(Case.id == case.id).values(urgent=True, priority=0))
    client = signed_in(runtime)
    page = client.get(f"/staff/cases/{case.id}").text
    assert "required: this case is urgent" in page
    refused = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/close",
                        {"resolution": "answered", "note": "  "})
    assert refused.status_code == 400 and "needs a note" in refused.text
    post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/close",
              {"resolution": "answered", "note": "Rang the resident; housing officer visiting today."})
    with runtime.sessions() as session:
        closed = session.get(Case, case.id)
        assert (closed.status, closed.resolution) == ("closed", "answered")
        note = session.scalars(select(Event.data).where(Event.kind == "closed")).one()["note"]
        assert note.startswith("Rang the resident")


def test_supervisor_correction_updates_labels_and_keeps_a_training_sample(runtime, intake):
    case = queued_case(runtime, intake, "There is a huge pothole outside number 4.")
    client = signed_in(runtime, "sam", "supervisor")
    labels = {"service": "highways", "contact_type": "report_issue", "avoidable_reason": "none", "language": "en",
              "urgent": "on"}
    response = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/labels", labels)
    assert "Labels corrected" in response.text
    with runtime.sessions() as session:
        updated = session.get(Case, case.id)
        assert (updated.service, updated.contact_type, updated.urgent, updated.priority) == \
            ("highways", "report_issue", True, 0)
        message = session.scalars(select(Message).where(Message.case_id == case.id)).one()
        assert message.service == "highways"
        sample = session.scalars(select(TrainingSample)).one()
        assert (sample.source, sample.labelled_by, sample.text) == \
            ("correction", "staff:sam", "There is a huge pothole outside number 4.")
        event = session.scalars(select(Event).where(Event.kind == "labels_corrected")).one()
        assert event.data["before"]["service"] is None and event.data["after"]["service"] == "highways"
    refused = post_form(client, f"/staff/cases/{case.id}", f"/staff/cases/{case.id}/labels",
                        {**labels, "service": "dragons"})
    assert refused.status_code == 400


def test_confirming_a_link_moves_the_identity_and_shows_the_whole_history(runtime, intake):
    first = queued_case(runtime, intake, "Email about my council tax bill.",
                        sender=SenderIdentity("email", "jo@example.org"))
    second = queued_case(runtime, intake, "Text: my email is jo@example.org", channel="sms", external_id="SM7",
                         sender=SenderIdentity("phone", "+447700900555"),
                         contact_points=(SenderIdentity("email", "jo@example.org"),))
    with runtime.sessions() as session:
        phone = session.scalars(select(Identity).where(Identity.kind == "phone")).one()
        email_customer = session.scalars(select(Identity.customer_id).where(Identity.kind == "email")).one()
        suggestion_id = session.scalars(select(LinkSuggestion.id)).one()
    client = signed_in(runtime)
    page = client.get(f"/staff/cases/{second.id}").text
    assert "Confirm: same resident" in page and "Email about my council tax bill." not in page
    post_form(client, f"/staff/cases/{second.id}", f"/staff/cases/{second.id}/links/{suggestion_id}",
              {"decision": "confirm"})
    with runtime.sessions() as session:
        assert session.get(Identity, phone.id).customer_id == email_customer
        assert session.get(LinkSuggestion, suggestion_id).status == "confirmed"
        assert session.get(Case, second.id).customer_id == email_customer
    history = client.get(f"/staff/cases/{first.id}").text
    assert "Email about my council tax bill." in history and "Text: my email is jo@example.org" in history


def test_reports_page_downloads_csv_for_a_supervisor(runtime, intake):
    queued_case(runtime, intake)
    today = london_date(datetime.now(UTC)).isoformat()
    client = signed_in(runtime, "sam", "supervisor")
    page = client.get(f"/staff/reports?kind=ni14&start={today}&end={today}")
    assert page.status_code == 200 and "NI14 avoidable contact" in page.text
    csv = client.get(f"/staff/reports?kind=performance&start={today}&end={today}&format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "attachment" in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0].startswith("reference,service,channel")
    assert len(csv.text.splitlines()) == 2

