"""What staff read: the queue of open cases and everything known about one case.

The queue is ordered as the team should work it: urgent first; then messages in
a language the classifier cannot read (it cannot tell whether they are urgent,
and the interpreter takes time); then by the date the case is measured against
(a holding reply's promise, else the standard respond-by date). SLA states are
worked out at the moment of reading, so the page is right even between two runs
of the SLA sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from triage.deadlines import sla_state
from triage.store.models import Case, Customer, Event, Identity, LinkSuggestion, Message, Reply
from triage.store.records import OPEN_STATUSES

QUEUE_LIMIT = 500
"""Most cases shown on one queue page; a team with more filters it."""
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class QueueFilters:
    service: str | None = None
    channel: str | None = None
    assignee: str | None = None
    sla: str | None = None


@dataclass(frozen=True)
class QueueRow:
    case: Case
    measured_respond_by: date | None
    processing_sla: str
    response_sla: str


@dataclass
class CaseFile:
    case: Case
    messages: list[Message]
    customer: Customer | None
    identities: list[Identity]
    history: list[Message]
    replies: list[Reply]
    events: list[Event]
    suggestions: list[tuple[LinkSuggestion, Identity, Customer]] = field(default_factory=list)
    processing_sla: str = "ok"
    response_sla: str = "ok"


def queue(session: Session, filters: QueueFilters, now: datetime, region: str) -> list[QueueRow]:
    measured = func.coalesce(Case.promised_by, Case.respond_by)
    query = (select(Case).where(Case.status.in_(OPEN_STATUSES))
             .order_by(Case.urgent.desc(), Case.needs_interpretation.desc(), measured.asc().nulls_last(),
                       Case.received_at, Case.id)
             .limit(QUEUE_LIMIT))
    if filters.service:
        query = query.where(Case.service == filters.service)
    if filters.channel:
        query = query.where(Case.channel == filters.channel)
    if filters.assignee == "-":
        query = query.where(Case.assignee.is_(None))
    elif filters.assignee:
        query = query.where(Case.assignee == filters.assignee)
    rows = [QueueRow(case, case.measured_respond_by, *slas(case, now, region)) for case in session.scalars(query)]
    if filters.sla:
        rows = [row for row in rows if filters.sla in (row.processing_sla, row.response_sla)]
    return rows


def slas(case: Case, now: datetime, region: str) -> tuple[str, str]:
    """(processing, response) states; a case with no deadline yet (still being triaged) counts as ok."""
    processing = sla_state(now, due=case.processed_by, done_at=case.processed_at, region=region) \
        if case.processed_by else "ok"
    due = case.measured_respond_by
    response = sla_state(now, due=due, done_at=case.responded_at, region=region) if due else "ok"
    return processing, response


def case_file(session: Session, case_id: int, now: datetime, region: str) -> CaseFile | None:
    case = session.get(Case, case_id)
    if case is None:
        return None
    messages = list(session.scalars(select(Message).where(Message.case_id == case.id)
                                    .options(selectinload(Message.attachments))
                                    .order_by(Message.received_at, Message.id)))
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    identities = list(session.scalars(select(Identity).where(Identity.customer_id == case.customer_id)
                                      .order_by(Identity.id))) if customer else []
    identity_ids = [identity.id for identity in identities]
    history = list(session.scalars(
        select(Message).where(or_(Message.customer_id == case.customer_id, Message.identity_id.in_(identity_ids)))
        .order_by(Message.received_at.desc(), Message.id.desc()).limit(HISTORY_LIMIT))) if customer else []
    replies = list(session.scalars(select(Reply).where(Reply.case_id == case.id).order_by(Reply.id)))
    events = list(session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.at, Event.id)))
    suggestions = []
    if identity_ids:
        pending = session.scalars(select(LinkSuggestion).where(LinkSuggestion.identity_id.in_(identity_ids),
                                                               LinkSuggestion.status == "pending")
                                  .order_by(LinkSuggestion.id))
        for suggestion in pending:
            suggestions.append((suggestion, session.get(Identity, suggestion.identity_id),
                                session.get(Customer, suggestion.suggested_customer_id)))
    processing, response = slas(case, now, region)
    return CaseFile(case, messages, customer, identities, history, replies, events, suggestions, processing,
                    response)


def assignees(session: Session) -> list[str]:
    """Everyone who holds an open case, for the queue's filter."""
    return list(session.scalars(select(Case.assignee).where(Case.status.in_(OPEN_STATUSES),
                                                            Case.assignee.is_not(None)).distinct()
                                .order_by(Case.assignee)))
