"""What the correspondence team does to a case, as plain functions on a session.

Each function runs inside the caller's transaction, records an event naming the
member of staff, and returns the ids of any replies it stored; the caller puts
those on the outbound queue after the commit (as the triage job does), so a
reply is never sent for a change that was rolled back. Nothing here knows about
the web: the staff pages and any future tool call the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.council import Council
from triage.deadlines import is_business_day, london_date
from triage.respond import reply_route
from triage.store.models import Case, Identity, LinkSuggestion, Message, Reply, TrainingSample
from triage.store.records import log_event
from triage.templates.catalogue import LANGUAGES, SERVICE_TEAMS, TEMPLATES
from triage.templates.names import salutation_name
from triage.templates.render import Rendered, render_reply

HOLDING_REPLY = "holding_reply"
PASSED_TO_SERVICE = "passed_to_service"
STAFF_TEMPLATES = tuple(name for name, spec in TEMPLATES.items()
                        if spec.resident_facing and name not in (HOLDING_REPLY, PASSED_TO_SERVICE))
"""Templates staff may send as they are; a holding reply and passing on have actions of their own."""
RESOLUTIONS = ("answered", "passed_to_service", "no_reply_needed", "duplicate", "withdrawn")
LABEL_FIELDS = ("service", "contact_type", "avoidable_reason", "urgent", "language")
URGENT_PRIORITY, NORMAL_PRIORITY = 0, 50


class CaseworkError(ValueError):
    """An action that cannot be done as asked; the message is shown to the member of staff."""


@dataclass(frozen=True)
class Labels:
    service: str
    contact_type: str
    avoidable_reason: str
    urgent: bool
    language: str

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in LABEL_FIELDS}


def staff_actor(username: str) -> str:
    return f"staff:{username}"


def load_case(session: Session, case_id: int, *, for_update: bool = True) -> Case:
    case = session.get(Case, case_id, with_for_update=for_update)
    if case is None:
        raise CaseworkError(f"there is no case {case_id}")
    return case


def latest_message(session: Session, case: Case) -> Message:
    message = session.scalars(select(Message).where(Message.case_id == case.id)
                              .order_by(Message.received_at.desc(), Message.id.desc())).first()
    if message is None:
        raise CaseworkError(f"case {case.reference} has no message to reply to")
    return message


def reply_language(case: Case, asked: str | None = None) -> str:
    """The language to write in: as asked, else the resident's when we write it, else English."""
    language = asked or case.language
    return language if language in LANGUAGES else "en"


def assign(session: Session, actor: str, case_id: int, assignee: str) -> None:
    case = load_case(session, case_id)
    before = case.assignee
    case.assignee = assignee
    log_event(session, actor, "assigned", case_id=case.id, before=before, after=assignee)


def preview(session: Session, council: Council, case_id: int, template: str, language: str,
            today: date) -> Rendered:
    """The reply exactly as the resident would get it on the channel it would go out on."""
    case = load_case(session, case_id, for_update=False)
    if template not in STAFF_TEMPLATES:
        raise CaseworkError(f"{template!r} is not a template staff can send")
    message = latest_message(session, case)
    route = reply_route(message)
    return render_reply(template, route.channel, reply_language(case, language),
                        {**_values(case), "resident_name": salutation_name(message.sender_name)}, council, today=today)


def send_template(session: Session, council: Council, actor: str, case_id: int, template: str, language: str,
                  token: str, now: datetime) -> int:
    """Store a staff reply from a template and mark the case responded; `token` makes a resubmission a no-op."""
    if template not in STAFF_TEMPLATES:
        raise CaseworkError(f"{template!r} is not a template staff can send")
    case = load_case(session, case_id)
    key = f"staff:{case.id}:{token}"
    existing = session.scalar(select(Reply.id).where(Reply.idempotency_key == key))
    if existing is not None:
        return existing
    reply = _store(session, council, actor, case, template, reply_language(case, language),
                   _values(case), key, now)
    if case.responded_at is None:
        case.responded_at = now
    case.updated_at = now
    log_event(session, actor, "responded", case_id=case.id, reply_id=reply.id, template=template)
    return reply.id


def pass_to_service(session: Session, council: Council, actor: str, case_id: int, team: str,
                    now: datetime) -> int:
    """Hand the case to a back-office team: processed now, waiting on them, and the resident told so."""
    if team not in SERVICE_TEAMS:
        raise CaseworkError(f"{team!r} is not a service team")
    case = load_case(session, case_id)
    if case.status == "closed":
        raise CaseworkError(f"case {case.reference} is closed")
    language = reply_language(case)
    values = {**_values(case), "service_name": SERVICE_TEAMS[team][language]}
    message = latest_message(session, case)
    reply = _store(session, council, actor, case, PASSED_TO_SERVICE, language, values,
                   f"{message.id}:{PASSED_TO_SERVICE}:{team}", now)
    case.processed_at = case.processed_at or now
    case.status = "waiting"
    case.updated_at = now
    log_event(session, actor, "passed_to_service", case_id=case.id, reply_id=reply.id, team=team)
    return reply.id


def extend(session: Session, council: Council, actor: str, case_id: int, promised_by: date, now: datetime,
           region: str) -> int:
    """Promise a later reply date: it becomes what the case is measured against, and the resident is told it."""
    case = load_case(session, case_id)
    if case.status == "closed":
        raise CaseworkError(f"case {case.reference} is closed")
    if promised_by <= london_date(now) or not is_business_day(promised_by, region):
        raise CaseworkError("the promised date must be a business day after today")
    before = case.measured_respond_by
    case.promised_by = promised_by
    case.updated_at = now
    language = reply_language(case)
    reply = _store(session, council, actor, case, HOLDING_REPLY, language, _values(case),
                   f"staff:{case.id}:{HOLDING_REPLY}:{promised_by.isoformat()}", now)
    log_event(session, actor, "extended", case_id=case.id, reply_id=reply.id,
              before=before.isoformat() if before else None, after=promised_by.isoformat())
    return reply.id


def close(session: Session, actor: str, case_id: int, resolution: str, note: str, now: datetime) -> None:
    """Close with a resolution; an urgent case needs a note from the person closing it."""
    if resolution not in RESOLUTIONS:
        raise CaseworkError(f"{resolution!r} is not a resolution")
    case = load_case(session, case_id)
    if case.status == "closed":
        raise CaseworkError(f"case {case.reference} is already closed")
    note = note.strip()
    if case.urgent and not note:
        raise CaseworkError("an urgent case needs a note saying what was done before it is closed")
    case.status = "closed"
    case.resolution = resolution
    case.resolved_at = now
    case.processed_at = case.processed_at or now
    case.updated_at = now
    log_event(session, actor, "closed", case_id=case.id, resolution=resolution, note=note or None)


def correct_labels(session: Session, actor: str, case_id: int, labels: Labels, now: datetime,
                   allowed: Mapping[str, tuple[str, ...]]) -> int:
    """Fix the labels on the case and its latest message, and keep the fix as a training sample."""
    for family in ("service", "contact_type", "avoidable_reason", "language"):
        if getattr(labels, family) not in allowed[family]:
            raise CaseworkError(f"{getattr(labels, family)!r} is not a {family} id")
    case = load_case(session, case_id)
    message = latest_message(session, case)
    before = {name: getattr(case, name) for name in LABEL_FIELDS}
    for target in (case, message):
        for name, value in labels.as_dict().items():
            setattr(target, name, value)
    case.priority = URGENT_PRIORITY if labels.urgent else NORMAL_PRIORITY
    case.needs_interpretation = labels.language not in LANGUAGES
    case.updated_at = now
    sample = TrainingSample(message_id=message.id, channel=message.channel, subject=message.subject,
                            text=message.text, source="correction", labelled_by=actor, created_at=now,
                            **labels.as_dict())
    session.add(sample)
    session.flush()
    log_event(session, actor, "labels_corrected", case_id=case.id, message_id=message.id, before=before,
              after=labels.as_dict(), training_sample_id=sample.id)
    return sample.id


def decide_link(session: Session, actor: str, suggestion_id: int, confirm: bool, now: datetime) -> None:
    """Confirm (move the identity, its messages and their cases to the suggested customer) or reject a link."""
    suggestion = session.get(LinkSuggestion, suggestion_id, with_for_update=True)
    if suggestion is None or suggestion.status != "pending":
        raise CaseworkError("that link suggestion has already been decided")
    suggestion.status = "confirmed" if confirm else "rejected"
    suggestion.decided_by = actor
    suggestion.decided_at = now
    identity = session.get(Identity, suggestion.identity_id)
    if not confirm:
        log_event(session, actor, "link_rejected", suggestion_id=suggestion.id, identity_id=identity.id)
        return
    previous = identity.customer_id
    identity.customer_id = suggestion.suggested_customer_id
    moved_cases = list(session.scalars(select(Message.case_id).where(
        Message.identity_id == identity.id, Message.case_id.is_not(None)).distinct()))
    session.execute(update(Message).where(Message.identity_id == identity.id)
                    .values(customer_id=suggestion.suggested_customer_id))
    if moved_cases:
        session.execute(update(Case).where(Case.id.in_(moved_cases), Case.customer_id == previous)
                        .values(customer_id=suggestion.suggested_customer_id))
    for case_id in moved_cases or [None]:
        log_event(session, actor, "link_confirmed", case_id=case_id, suggestion_id=suggestion.id,
                  identity_id=identity.id, customer_before=previous, customer_after=suggestion.suggested_customer_id)


def _values(case: Case) -> dict:
    return {"reference": case.reference, "respond_by": case.measured_respond_by, "promised_by": case.promised_by,
            "needs_interpretation": case.needs_interpretation}


def _store(session: Session, council: Council, actor: str, case: Case, template: str, language: str,
           values: Mapping[str, object], key: str, now: datetime) -> Reply:
    message = latest_message(session, case)
    route = reply_route(message)
    if route.channel == "sms" and session.scalar(
        select(Identity.opted_out_at).where(Identity.kind == "phone", Identity.value == route.recipient)
    ):
        raise CaseworkError("this number has opted out of SMS (STOP): reply by another channel or by post")
    values = {**values, "resident_name": salutation_name(message.sender_name)}
    rendered = render_reply(template, route.channel, language, values, council, today=london_date(now))
    existing = session.scalars(select(Reply).where(Reply.idempotency_key == key)).first()
    if existing is not None:
        return existing
    meta = {"letter": rendered.letter.as_dict()} if rendered.letter else {}
    if route.channel == "email" and message.channel == "email":
        meta |= {"in_reply_to": message.external_id, "references": [*(message.references or []), message.external_id]}
    reply = Reply(idempotency_key=key, case_id=case.id, message_id=message.id, channel=route.channel,
                  recipient=route.recipient, template=template, language=language, automatic=False,
                  subject=rendered.subject, body_text=rendered.text, body_html=rendered.html, status="queued",
                  attempts=0, meta=meta, created_by=actor, created_at=now)
    session.add(reply)
    session.flush()
    log_event(session, actor, "reply_created", case_id=case.id, message_id=message.id, reply_id=reply.id,
              template=template, channel=route.channel)
    return reply
